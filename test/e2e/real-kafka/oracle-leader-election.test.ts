// The oracle for kts leader-election (test/helpers/oracle.ts): Kafka 3.9's kafka-leader-election
// against a Kafka 3.9 broker on ZooKeeper, kts's against kts, one broker (id 0) on each side with
// the same topics; stdout, stderr and exit code compared. With one broker every partition is led
// by its preferred replica, so the elections themselves are checked on three kts brokers in
// test/e2e/cluster/leader-election.test.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/broker.js';
import { type Outcome, type OracleScenario, type OracleSide, type OracleSuite, startOracle } from '../../helpers/oracle.js';
import { interopRequired } from '../../helpers/tools.js';

const b = ['--bootstrap-server', '{bootstrap}'];

const file = (content: unknown): string => {
  const path = join(tempDir('oracle-election-'), 'election.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

/**
 * Kept difference: Kafka's tool dies of an AdminCommandFailedException (or another exception): it
 * prints the message and then the Java stack trace (with the partitions' exceptions as Suppressed)
 * on stderr; kts prints the message. Compared: exit code, stdout and stderr's first line.
 */
const STACK_TRACE_ON_STDERR = {
  why: 'kafka-leader-election prints a Java stack trace on stderr after the message',
  compare: (o: Outcome) => ({ code: o.code, stdout: o.stdout, stderr: o.stderr.split('\n')[0] }),
};

const preferred = [...b, '--election-type', 'preferred'];

const scenarios = (): OracleScenario[] => [
  { name: 'preferred, a partition its preferred replica leads', tool: 'leader-election', args: [...preferred, '--topic', 'orders', '--partition', '0'] },
  { name: 'unclean, a partition with a leader', tool: 'leader-election', args: [...b, '--election-type', 'UNCLEAN', '--topic', 'orders', '--partition', '1'] },
  { name: 'preferred, all partitions', tool: 'leader-election', args: [...preferred, '--all-topic-partitions'] },
  { name: 'preferred, a JSON file of three partitions', tool: 'leader-election', args: [...preferred, '--path-to-json-file', file({ partitions: [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 2 }, { topic: 'single', partition: 0 }] })] },
  { name: 'a partition that does not exist', tool: 'leader-election', args: [...preferred, '--topic', 'nope', '--partition', '0'], except: STACK_TRACE_ON_STDERR },
  { name: 'a JSON file naming a partition twice', tool: 'leader-election', args: [...preferred, '--path-to-json-file', file({ partitions: [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 0 }] })], except: STACK_TRACE_ON_STDERR },
  { name: 'a JSON file without partitions', tool: 'leader-election', args: [...preferred, '--path-to-json-file', file({ version: 1 })], except: STACK_TRACE_ON_STDERR },
  { name: 'a JSON file with an empty list', tool: 'leader-election', args: [...preferred, '--path-to-json-file', file({ partitions: [] })], except: STACK_TRACE_ON_STDERR },
  { name: 'no election type', tool: 'leader-election', args: [...b, '--topic', 'orders', '--partition', '0'], except: STACK_TRACE_ON_STDERR },
  { name: 'a topic without a partition', tool: 'leader-election', args: [...preferred, '--topic', 'orders'], except: STACK_TRACE_ON_STDERR },
  { name: 'a partition without a topic', tool: 'leader-election', args: [...preferred, '--all-topic-partitions', '--partition', '0'], except: STACK_TRACE_ON_STDERR },
  { name: 'a topic and all partitions', tool: 'leader-election', args: [...preferred, '--all-topic-partitions', '--topic', 'orders', '--partition', '0'], except: STACK_TRACE_ON_STDERR },
  { name: 'an unknown election type', tool: 'leader-election', args: [...b, '--election-type', 'sideways', '--all-topic-partitions'], except: STACK_TRACE_ON_STDERR },
];

describe('leader-election: kts vs Kafka 3.9', () => {
  let oracle: OracleSuite;

  const must = async (side: OracleSide, args: string[]) => {
    const r = await side.run('topics', args);
    expect(r.code, `${side.side} topics ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
  };

  beforeAll(async () => {
    oracle = await startOracle('leader-election');
    await Promise.all(
      oracle.sides().map(async (side) => {
        await must(side, [...b, '--create', '--topic', 'orders', '--partitions', '3']);
        await must(side, [...b, '--create', '--topic', 'single', '--partitions', '1']);
      }),
    );
  }, 400_000);

  afterAll(async () => {
    await oracle?.close();
  }, 120_000);

  for (const s of scenarios()) {
    it(`${s.name}`, async () => {
      await oracle.check(s);
    }, 120_000);
  }

  it('runs live in CI', () => {
    if (interopRequired) expect(oracle.kafka).not.toBeNull();
  });
});
