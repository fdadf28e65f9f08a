// librdkafka's idempotent producer (kcat -X enable.idempotence=true) writes 100,000 records over
// three partitions while the broker is killed with SIGKILL and restarted on the same port and data
// dir. Everything is then read back: every value exactly once (no duplicate, no gap) and, per
// partition, in the order it was produced. The broker rebuilt its producer state from the log
// (no snapshot after a kill), so librdkafka's resends were recognised as duplicates.
import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { kcat } from '../../helpers/kcat.js';
import { kcatPath } from '../../helpers/tools.js';
import { spawnTracked } from '../../helpers/processes.js';

const hasKcat = kcatPath() !== null;
const TOTAL = 100_000;
const PARTITIONS = 3;

describe.skipIf(!hasKcat)('idempotent librdkafka producer across a broker kill -9', () => {
  let broker: SpawnedBroker | undefined;
  afterAll(async () => {
    await broker?.stop();
  });

  it(`${TOTAL.toLocaleString('en')} records: no duplicate, no gap, order kept per partition`, async () => {
    broker = await spawnBroker();
    const { port, dataDir } = broker;
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'idem', numPartitions: PARTITIONS }] });
    await admin.disconnect();

    const producer = spawnTracked(
      kcatPath()!,
      [
        '-E', // keep going while the broker is down
        '-P', '-b', broker.bootstrap, '-t', 'idem',
        '-X', 'enable.idempotence=true',
        '-X', 'message.timeout.ms=120000',
        '-X', 'linger.ms=5',
        '-X', 'batch.num.messages=500',
        '-X', 'socket.timeout.ms=1000', // librdkafka's own timeout for requests in flight
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let stderr = '';
    producer.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => producer.on('close', resolve));
    producer.stdin.on('error', () => {});

    // Feed 1,250 values every 50 ms (about 4 s in all); kill the broker once 25% are written; at 80%
    // pause it (SIGSTOP) for 2.5 s: librdkafka times out the requests in flight and resends them
    // after the broker has written them, which is where duplicates would come from.
    let next = 1;
    let killed: Promise<void> | undefined;
    let paused: Promise<void> | undefined;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        let chunk = '';
        for (let k = 0; k < 1250 && next <= TOTAL; k++) chunk += `${next++}\n`;
        producer.stdin.write(chunk);
        if (!killed && next > TOTAL * 0.25) {
          killed = (async () => {
            await broker!.kill9();
            await new Promise((r) => setTimeout(r, 1000));
            broker = await spawnBroker({ port, dataDir });
          })();
        }
        if (killed && !paused && next > TOTAL * 0.8) {
          paused = (async () => {
            await killed;
            broker!.process.kill('SIGSTOP');
            await new Promise((r) => setTimeout(r, 2500));
            broker!.process.kill('SIGCONT');
          })();
        }
        if (next > TOTAL) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
    });
    producer.stdin.end();
    await killed;
    await paused;
    const code = await exited;
    expect(code, stderr.slice(-2000)).toBe(0);
    expect(stderr).not.toMatch(/Delivery failed/);
    expect(broker!.output()).toMatch(/unclean shutdown before/);

    const seen = new Map<number, number>();
    let total = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const out = await kcat(['-C', '-b', broker!.bootstrap, '-t', 'idem', '-p', String(p), '-o', 'beginning', '-e', '-q'], { timeoutMs: 60_000 });
      const values = out.split('\n').filter(Boolean).map(Number);
      total += values.length;
      expect(values.length).toBeGreaterThan(0);
      for (let i = 1; i < values.length; i++) {
        if (values[i] <= values[i - 1]) throw new Error(`partition ${p}: ${values[i]} follows ${values[i - 1]} at index ${i}`);
      }
      for (const v of values) seen.set(v, (seen.get(v) ?? 0) + 1);
    }
    const duplicates = [...seen.values()].filter((n) => n > 1).length;
    const missing = TOTAL - seen.size;
    const resends = (broker!.output().match(/duplicate batch answered/g) ?? []).length;
    console.log(
      `kcat idempotence across kill -9: ${total} records read, ${seen.size} distinct, ${duplicates} duplicated, ${missing} missing; ${resends} resent batch(es) recognised as duplicates`,
    );
    expect({ total, duplicates, missing }).toEqual({ total: TOTAL, duplicates: 0, missing: 0 });
  });
});
