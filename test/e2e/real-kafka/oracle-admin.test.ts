// The oracle for kts consumer-groups, get-offsets, configs and delete-records
// (test/helpers/oracle.ts): Kafka 3.9's tools against Kafka 3.9, kts's against kts, both brokers
// prepared alike by their own tools, same bytes out.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/broker.js';
import { ASSIGNMENT_WITHOUT_TOPIC, JAVA_EXCEPTION, memberIds, ROWS_RUN_TOGETHER, WRONG_OPTION_LIST, type OracleScenario, type OracleSide, type OracleSuite, startOracle, USAGE_ERROR } from '../../helpers/oracle.js';
import { interopRequired } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/zookeeper.js';

const b = ['--bootstrap-server', '{bootstrap}'];
// A generous admin timeout (Kafka's default is 5 s): two loaded cores, JVMs starting beside.
const groups = (...args: string[]): string[] => [...b, '--timeout', '60000', ...args];
/** Kafka lists groups in the broker's (hash) order: compared sorted. */
const sortedLines = (t: string) => t.split('\n').filter((l) => l !== '').sort().join('\n');
// Keyed records land on the same partitions on both sides (murmur2): orders-0..2 hold 4, 3 and 5.
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'];

const file = (name: string, content: string): string => {
  const path = join(tempDir('oracle-admin-'), name);
  writeFileSync(path, content);
  return path;
};
const offsetsJson = (partitions: { topic: string; partition: number; offset: number }[]) => file('offsets.json', JSON.stringify({ version: 1, partitions }));

const consumerGroups: OracleScenario[] = [
  { name: 'list', tool: 'consumer-groups', args: groups('--list'), normalise: sortedLines },
  { name: 'list --state', tool: 'consumer-groups', args: groups('--list', '--state'), normalise: sortedLines },
  { name: 'describe a group without members', tool: 'consumer-groups', args: groups('--describe', '--group', 'done'), except: ROWS_RUN_TOGETHER },
  { name: 'describe --members without members', tool: 'consumer-groups', args: groups('--describe', '--group', 'done', '--members') },
  { name: 'describe --state without members', tool: 'consumer-groups', args: groups('--describe', '--group', 'done', '--state') },
  { name: 'describe a missing group', tool: 'consumer-groups', args: groups('--describe', '--group', 'nope') },
  { name: 'describe without a group', tool: 'consumer-groups', args: groups('--describe'), except: WRONG_OPTION_LIST },
  { name: 'reset --to-earliest without a mode', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'done', '--topic', 'orders', '--to-earliest'), except: ROWS_RUN_TOGETHER },
  { name: 'reset --to-earliest --dry-run', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'done', '--all-topics', '--to-earliest', '--dry-run'), except: ROWS_RUN_TOGETHER },
  { name: 'reset --to-latest --dry-run', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'half', '--topic', 'orders', '--to-latest', '--dry-run'), except: ROWS_RUN_TOGETHER },
  { name: 'reset --shift-by -2 --dry-run', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'done', '--topic', 'orders', '--shift-by', '-2', '--dry-run'), except: ROWS_RUN_TOGETHER },
  { name: 'reset --shift-by past the end --dry-run', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'half', '--topic', 'orders:0,1', '--shift-by', '10', '--dry-run'), except: ROWS_RUN_TOGETHER },
  { name: 'reset --shift-by without a committed offset', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'half', '--topic', 'orders:2', '--shift-by', '1', '--dry-run'), except: USAGE_ERROR },
  { name: 'reset --to-offset --dry-run', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'done', '--topic', 'orders:1', '--to-offset', '2', '--dry-run'), except: ROWS_RUN_TOGETHER },
  { name: 'reset --to-datetime --dry-run', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'done', '--topic', 'orders', '--to-datetime', '2000-01-01T00:00:00.000', '--dry-run'), except: ROWS_RUN_TOGETHER },
  { name: 'reset --to-datetime in the future --dry-run', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'half', '--topic', 'orders', '--to-datetime', '2100-01-01T00:00:00.000Z', '--dry-run'), except: ROWS_RUN_TOGETHER },
  { name: 'reset --export', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'done', '--topic', 'orders', '--to-earliest', '--dry-run', '--export') },
  { name: 'reset --execute', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'reset', '--topic', 'orders', '--to-offset', '1', '--execute'), except: ROWS_RUN_TOGETHER },
  { name: 'describe after reset --execute', tool: 'consumer-groups', args: groups('--describe', '--group', 'reset'), except: ROWS_RUN_TOGETHER },
  { name: 'reset --dry-run with --execute', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'done', '--topic', 'orders', '--to-earliest', '--dry-run', '--execute'), except: USAGE_ERROR },
  { name: 'reset without a scenario', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'done', '--topic', 'orders', '--dry-run'), except: USAGE_ERROR },
  { name: 'delete a group', tool: 'consumer-groups', args: groups('--delete', '--group', 'reset') },
  { name: 'delete a missing group', tool: 'consumer-groups', args: groups('--delete', '--group', 'nope') },
];

const liveGroup: OracleScenario[] = [
  { name: 'describe a group with a member', tool: 'consumer-groups', args: groups('--describe', '--group', 'live'), normalise: memberIds, except: ROWS_RUN_TOGETHER },
  { name: 'describe --members', tool: 'consumer-groups', args: groups('--describe', '--group', 'live', '--members'), normalise: memberIds },
  { name: 'describe --members --verbose', tool: 'consumer-groups', args: groups('--describe', '--group', 'live', '--members', '--verbose'), normalise: memberIds, except: ASSIGNMENT_WITHOUT_TOPIC },
  { name: 'describe --state of a stable group', tool: 'consumer-groups', args: groups('--describe', '--group', 'live', '--state') },
  { name: 'reset an active group', tool: 'consumer-groups', args: groups('--reset-offsets', '--group', 'live', '--topic', 'idle', '--to-earliest', '--execute'), except: ROWS_RUN_TOGETHER },
  { name: 'delete an active group', tool: 'consumer-groups', args: groups('--delete', '--group', 'live') },
];

const getOffsets: OracleScenario[] = [
  { name: 'latest', tool: 'get-offsets', args: [...b, '--topic', 'orders'] },
  { name: '--time -2', tool: 'get-offsets', args: [...b, '--topic', 'orders', '--time', '-2'] },
  { name: '--time earliest', tool: 'get-offsets', args: [...b, '--topic', 'orders', '--time', 'earliest'] },
  { name: '--time 0', tool: 'get-offsets', args: [...b, '--topic', 'orders', '--time', '0'] },
  { name: '--time in the future', tool: 'get-offsets', args: [...b, '--topic', 'orders', '--time', '4102444800000'] },
  { name: '--partitions', tool: 'get-offsets', args: [...b, '--topic', 'orders', '--partitions', '0,2'] },
  { name: '--topic-partitions', tool: 'get-offsets', args: [...b, '--topic-partitions', 'orders:1-,configured'] },
  { name: 'a topic regex', tool: 'get-offsets', args: [...b, '--topic', 'o.*|conf.*'] },
  { name: '--exclude-internal-topics', tool: 'get-offsets', args: [...b, '--exclude-internal-topics'] },
  { name: 'no matching topic', tool: 'get-offsets', args: [...b, '--topic', 'nope'] },
  { name: 'a malformed --time', tool: 'get-offsets', args: [...b, '--topic', 'orders', '--time', 'soon'] },
  { name: '--topic-partitions with --topic', tool: 'get-offsets', args: [...b, '--topic', 'orders', '--topic-partitions', 'orders:0'] },
];

const configs: OracleScenario[] = [
  { name: 'describe a topic', tool: 'configs', args: [...b, '--describe', '--entity-type', 'topics', '--entity-name', 'configured'] },
  {
    name: 'describe --all a topic',
    tool: 'configs',
    args: [...b, '--describe', '--all', '--topic', 'configured'],
    // Kept difference: topic configs kts does not implement (3.8's compression levels, the
    // remote-storage switches, the 2.x-era message.format.version) are not listed by kts.
    except: {
      why: 'topic configs kts does not have',
      compare: (o) => ({ ...o, stdout: o.stdout.replace(/^ {2}(compression\.\w+\.level|message\.format\.version|remote\.log\.[\w.]+)=.*\n/gm, '') }),
    },
  },
  { name: 'describe a topic without overrides', tool: 'configs', args: [...b, '--describe', '--entity-type', 'topics', '--entity-name', 'orders'] },
  { name: 'describe --topic', tool: 'configs', args: [...b, '--describe', '--topic', 'configured'] },
  { name: 'alter a topic', tool: 'configs', args: [...b, '--alter', '--entity-type', 'topics', '--entity-name', 'altered', '--add-config', 'retention.ms=7200000,max.message.bytes=2048'] },
  { name: 'delete a topic config', tool: 'configs', args: [...b, '--alter', '--topic', 'configured', '--delete-config', 'retention.ms'] },
  { name: 'delete a topic config that is not set', tool: 'configs', args: [...b, '--alter', '--topic', 'orders', '--delete-config', 'retention.ms'] },
  { name: 'alter with nothing to change', tool: 'configs', args: [...b, '--alter', '--topic', 'orders'] },
  { name: 'describe a broker', tool: 'configs', args: [...b, '--describe', '--entity-type', 'brokers', '--entity-name', '0'] },
  { name: 'describe the broker defaults', tool: 'configs', args: [...b, '--describe', '--entity-type', 'brokers', '--entity-default'] },
  { name: 'describe a broker with a bad id', tool: 'configs', args: [...b, '--describe', '--entity-type', 'brokers', '--entity-name', 'x'] },
  { name: 'describe an unknown entity type', tool: 'configs', args: [...b, '--describe', '--entity-type', 'tables', '--entity-name', 'x'] },
];

const deleteRecords = (): OracleScenario[] => [
  { name: 'delete records', tool: 'delete-records', args: [...b, '--offset-json-file', offsetsJson([{ topic: 'trimmed', partition: 0, offset: 2 }])] },
  { name: 'delete records up to the high watermark', tool: 'delete-records', args: [...b, '--offset-json-file', offsetsJson([{ topic: 'trimmed', partition: 1, offset: -1 }])] },
  { name: 'delete records past the end', tool: 'delete-records', args: [...b, '--offset-json-file', offsetsJson([{ topic: 'trimmed', partition: 0, offset: 99 }])] },
  { name: 'get-offsets after delete-records', tool: 'get-offsets', args: [...b, '--topic', 'trimmed', '--time', '-2'] },
  {
    name: 'delete records with duplicate partitions',
    tool: 'delete-records',
    args: [...b, '--offset-json-file', offsetsJson([{ topic: 'trimmed', partition: 0, offset: 1 }, { topic: 'trimmed', partition: 0, offset: 2 }])],
    except: JAVA_EXCEPTION,
  },
  { name: 'delete records without a file', tool: 'delete-records', args: [...b], except: USAGE_ERROR },
];

describe('consumer-groups, get-offsets, configs, delete-records: kts vs Kafka 3.9', () => {
  let oracle: OracleSuite;
  const live = new Map<OracleSide, Promise<unknown>>();

  const must = async (side: OracleSide, tool: Parameters<OracleSide['run']>[0], args: string[], input?: string) => {
    const r = await side.run(tool, args, { input });
    expect(r.code, `${side.side} ${tool} ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    oracle = await startOracle('admin');
    await Promise.all(
      oracle.sides().map(async (side) => {
        for (const [topic, n, extra] of [
          ['orders', 3, []],
          ['idle', 1, []],
          ['altered', 1, []],
          ['trimmed', 2, []],
          ['configured', 1, ['--config', 'cleanup.policy=compact', '--config', 'retention.ms=60000']],
        ] as const) {
          await must(side, 'topics', [...b, '--create', '--topic', topic, '--partitions', String(n), ...extra]);
        }
        const lines = KEYS.map((k) => `${k}\tvalue-${k}`).join('\n') + '\n';
        await must(side, 'console-producer', [...b, '--topic', 'orders', '--property', 'parse.key=true'], lines);
        await must(side, 'console-producer', [...b, '--topic', 'trimmed', '--property', 'parse.key=true'], lines);
        await must(side, 'console-consumer', [...b, '--topic', 'orders', '--group', 'done', '--from-beginning', '--max-messages', String(KEYS.length)]);
        await must(side, 'consumer-groups', [...b, '--reset-offsets', '--group', 'half', '--topic', 'orders:0,1', '--to-offset', '1', '--execute']);
      }),
    );
  }, 400_000);

  afterAll(async () => {
    await oracle?.close();
    await Promise.allSettled(live.values());
  }, 120_000);

  for (const s of [...consumerGroups, ...getOffsets, ...configs]) {
    it(`${s.tool} ${s.name}`, async () => {
      await oracle.check(s);
    }, 120_000);
  }

  describe('a group with a live member', () => {
    beforeAll(async () => {
      // A console consumer that waits on an empty topic until afterAll gives it its one record. It
      // commits nothing (when a Java consumer first auto-commits an idle partition is a race).
      for (const side of oracle.sides()) {
        const args = [...b, '--topic', 'idle', '--group', 'live', '--max-messages', '1', '--consumer-property', 'enable.auto.commit=false'];
        live.set(side, side.run('console-consumer', args, { timeoutMs: 900_000 }));
        await waitFor(
          `${side.side}: group live is stable with its member`,
          async () => (await side.run('consumer-groups', [...b, '--describe', '--group', 'live', '--members'])).stdout.includes('console-consumer '),
          90_000,
        );
      }
    }, 200_000);

    afterAll(async () => {
      for (const side of oracle.sides()) await must(side, 'console-producer', [...b, '--topic', 'idle'], 'bye\n');
      await Promise.all(live.values());
    }, 300_000);

    for (const s of liveGroup) {
      it(`${s.tool} ${s.name}`, async () => {
        await oracle.check(s);
      }, 120_000);
    }
  });

  describe('delete-records', () => {
    for (const s of deleteRecords()) {
      it(`${s.tool} ${s.name}`, async () => {
        await oracle.check(s);
      }, 120_000);
    }
  });

  it('runs live in CI', () => {
    if (interopRequired) expect(oracle.kafka).not.toBeNull();
  });
});
