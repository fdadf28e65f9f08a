// Every broker key kts reads as a number has a value when the operator sets none. A key read with
// getNumber and no default is NaN, and a timer of NaN ms fires at once: the transaction coordinator's
// marker sender connected with socket.connection.setup.timeout.ms unset, so each connection to another
// leader (and its ApiVersions) "timed out" after ~1 ms whenever the machine was busy, and a
// transaction's markers were retried for seconds (15 s seen at load 17; kafkajs gave up on its next
// AddPartitionsToTxn after 5 CONCURRENT_TRANSACTIONS answers in transactions/cluster.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BrokerConfig } from '../../../src/config/broker-config.js';

/** Keys whose null default is Kafka's (another key decides) and whose readers check for it. */
const DECIDED_ELSEWHERE = new Set(['log.retention.ms', 'log.retention.minutes']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('broker number defaults', () => {
  it('socket.connection.setup.timeout.ms is Kafka\'s 10 s when unset', () => {
    expect(new BrokerConfig(new Map()).getNumber('socket.connection.setup.timeout.ms')).toBe(10_000);
    expect(new BrokerConfig(new Map([['socket.connection.setup.timeout.ms', '2500']])).getNumber('socket.connection.setup.timeout.ms')).toBe(2500);
  });

  it('every key src/ reads with getNumber is a finite number on a broker configured with nothing', () => {
    const keys = new Set<string>();
    for (const file of sources(join(__dirname, '../../../src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\.getNumber\('([a-z0-9._]+)'\)/g)) keys.add(m[1]);
    }
    expect(keys.size).toBeGreaterThan(30);
    const config = new BrokerConfig(new Map());
    const missing = [...keys].filter((k) => !DECIDED_ELSEWHERE.has(k) && !Number.isFinite(config.getNumber(k)));
    expect(missing).toEqual([]);
  });
});
