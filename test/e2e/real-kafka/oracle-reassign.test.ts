// The oracle for kts reassign-partitions (test/helpers/oracle.ts): Kafka 3.9's
// kafka-reassign-partitions against a Kafka 3.9 broker on ZooKeeper, kts's against kts, one broker
// (id 0) on each side with the same topics; stdout, stderr and exit code compared. With one broker
// every move is to the same replica, which completes at once: the moves themselves are checked on
// three kts brokers in test/e2e/cluster/reassign-partitions.test.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/broker.js';
import { type Outcome, type OracleScenario, type OracleSide, type OracleSuite, startOracle, USAGE_ERROR } from '../../helpers/oracle.js';
import { interopRequired } from '../../helpers/tools.js';

const b = ['--bootstrap-server', '{bootstrap}'];

const file = (name: string, content: unknown): string => {
  const path = join(tempDir('oracle-reassign-'), name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const plan = (partitions: { topic: string; partition: number; replicas: number[] }[]) => file('plan.json', { version: 1, partitions });
const topicsToMove = (...topics: string[]) => file('topics.json', { version: 1, topics: topics.map((topic) => ({ topic })) });

/**
 * Kept difference: where Kafka's tool fails with an exception other than its TerseException, it
 * prints "Error: <message>" and then the exception's Java stack trace, on stdout; kts prints the
 * "Error: <message>" line. Compared: exit code, stderr and stdout's first line.
 */
export const STACK_TRACE_ON_STDOUT = {
  why: "kafka-reassign-partitions prints a Java stack trace on stdout after its Error: line",
  compare: (o: Outcome) => ({ code: o.code, stderr: o.stderr, stdout: o.stdout.split('\n')[0] }),
};

const scenarios = (): OracleScenario[] => [
  { name: 'list with nothing moving', tool: 'reassign-partitions', args: [...b, '--list'] },
  { name: 'generate onto broker 0', tool: 'reassign-partitions', args: [...b, '--generate', '--topics-to-move-json-file', topicsToMove('orders', 'single'), '--broker-list', '0'] },
  { name: 'generate with no topics', tool: 'reassign-partitions', args: [...b, '--generate', '--topics-to-move-json-file', file('none.json', { version: 1, topics: [] }), '--broker-list', '0'] },
  { name: 'generate for a missing topic', tool: 'reassign-partitions', args: [...b, '--generate', '--topics-to-move-json-file', topicsToMove('nope'), '--broker-list', '0'], except: STACK_TRACE_ON_STDOUT },
  { name: 'generate with a duplicate broker', tool: 'reassign-partitions', args: [...b, '--generate', '--topics-to-move-json-file', topicsToMove('orders'), '--broker-list', '0,0'], except: STACK_TRACE_ON_STDOUT },
  { name: 'generate with a duplicate topic', tool: 'reassign-partitions', args: [...b, '--generate', '--topics-to-move-json-file', topicsToMove('orders', 'orders'), '--broker-list', '0'], except: STACK_TRACE_ON_STDOUT },
  { name: 'generate onto no live broker', tool: 'reassign-partitions', args: [...b, '--generate', '--topics-to-move-json-file', topicsToMove('orders'), '--broker-list', '5'], except: STACK_TRACE_ON_STDOUT },
  { name: 'generate from a file that is not JSON', tool: 'reassign-partitions', args: [...b, '--generate', '--topics-to-move-json-file', file('bad.json', 'nope'), '--broker-list', '0'], except: STACK_TRACE_ON_STDOUT },
  { name: 'execute onto the current replica', tool: 'reassign-partitions', args: [...b, '--execute', '--reassignment-json-file', plan([{ topic: 'orders', partition: 0, replicas: [0] }])] },
  { name: 'verify a completed move', tool: 'reassign-partitions', args: [...b, '--verify', '--reassignment-json-file', plan([{ topic: 'orders', partition: 0, replicas: [0] }])] },
  {
    name: 'execute two partitions with a throttle',
    tool: 'reassign-partitions',
    args: [...b, '--execute', '--throttle', '50000000', '--reassignment-json-file', plan([{ topic: 'orders', partition: 2, replicas: [0] }, { topic: 'orders', partition: 1, replicas: [0] }])],
  },
  {
    name: 'verify two topics, one partition elsewhere',
    tool: 'reassign-partitions',
    args: [...b, '--verify', '--preserve-throttles', '--reassignment-json-file', plan([{ topic: 'single', partition: 0, replicas: [0] }, { topic: 'orders', partition: 1, replicas: [3] }])],
  },
  {
    name: 'verify and clear the throttles of two topics',
    tool: 'reassign-partitions',
    args: [...b, '--verify', '--reassignment-json-file', plan([{ topic: 'single', partition: 0, replicas: [0] }, { topic: 'orders', partition: 1, replicas: [0] }])],
  },
  { name: 'cancel with nothing moving', tool: 'reassign-partitions', args: [...b, '--cancel', '--reassignment-json-file', plan([{ topic: 'orders', partition: 0, replicas: [0] }])] },
  { name: 'execute onto an unknown broker', tool: 'reassign-partitions', args: [...b, '--execute', '--reassignment-json-file', plan([{ topic: 'orders', partition: 0, replicas: [5] }])], except: STACK_TRACE_ON_STDOUT },
  { name: 'execute for a missing partition', tool: 'reassign-partitions', args: [...b, '--execute', '--reassignment-json-file', plan([{ topic: 'orders', partition: 9, replicas: [0] }])], except: STACK_TRACE_ON_STDOUT },
  { name: 'execute an empty plan', tool: 'reassign-partitions', args: [...b, '--execute', '--reassignment-json-file', plan([])], except: STACK_TRACE_ON_STDOUT },
  {
    name: 'execute a plan naming a partition twice',
    tool: 'reassign-partitions',
    args: [...b, '--execute', '--reassignment-json-file', plan([{ topic: 'orders', partition: 0, replicas: [0] }, { topic: 'orders', partition: 0, replicas: [0] }])],
    except: STACK_TRACE_ON_STDOUT,
  },
  { name: 'execute with a duplicate replica', tool: 'reassign-partitions', args: [...b, '--execute', '--reassignment-json-file', plan([{ topic: 'orders', partition: 0, replicas: [0, 0] }])], except: STACK_TRACE_ON_STDOUT },
  { name: 'no action', tool: 'reassign-partitions', args: [...b], except: USAGE_ERROR },
  { name: 'two actions', tool: 'reassign-partitions', args: [...b, '--list', '--verify'], except: USAGE_ERROR },
  { name: 'generate without a broker list', tool: 'reassign-partitions', args: [...b, '--generate', '--topics-to-move-json-file', topicsToMove('orders')], except: USAGE_ERROR },
  { name: 'verify with a throttle', tool: 'reassign-partitions', args: [...b, '--verify', '--throttle', '1', '--reassignment-json-file', plan([])], except: USAGE_ERROR },
];

describe('reassign-partitions: kts vs Kafka 3.9', () => {
  let oracle: OracleSuite;

  const must = async (side: OracleSide, args: string[]) => {
    const r = await side.run('topics', args);
    expect(r.code, `${side.side} topics ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
  };

  beforeAll(async () => {
    oracle = await startOracle('reassign');
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

  // In order: the execute/verify/cancel scenarios follow one another on the same topics.
  for (const s of scenarios()) {
    it(`${s.name}`, async () => {
      await oracle.check(s);
    }, 120_000);
  }

  it('runs live in CI', () => {
    if (interopRequired) expect(oracle.kafka).not.toBeNull();
  });
});
