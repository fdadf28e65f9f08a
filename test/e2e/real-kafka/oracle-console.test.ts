// The oracle for kts console-producer and console-consumer (test/helpers/oracle.ts): Kafka 3.9's
// tools against Kafka 3.9, kts's against kts, same records on both, same bytes out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interopRequired } from '../../helpers/tools.js';
import { JAVA_EXCEPTION, type OracleScenario, type OracleSuite, startOracle, timestamps, USAGE_ERROR } from '../../helpers/oracle.js';

const b = ['--bootstrap-server', '{bootstrap}'];
// One partition: the order the consumer prints is the log's.
const RECORDS = ['h1:v1,h2:v2\tk1\tone', 'h1:x\tk2\ttwo', 'h2:v2\tk3\tthree', 'h3:\tk1\tfour with\ttab', 'h1:v1\tk4\t'];

const producer: OracleScenario[] = [
  {
    name: 'produce with --reader-property (KIP-1147) as --property',
    tool: 'console-producer',
    args: [...b, '--topic', 'produced', '--property', 'parse.key=true'],
    ktsArgs: [...b, '--topic', 'produced', '--reader-property', 'parse.key=true'],
    input: 'novalue\n',
    except: JAVA_EXCEPTION,
  },
  { name: 'produce lines', tool: 'console-producer', args: [...b, '--topic', 'produced'], input: 'a\nb\n\nc\n' },
  { name: 'produce keyed lines', tool: 'console-producer', args: [...b, '--topic', 'produced', '--property', 'parse.key=true'], input: 'k\tv\nk2\tv\tw\n' },
  { name: 'produce with a key.separator', tool: 'console-producer', args: [...b, '--topic', 'produced', '--property', 'parse.key=true', '--property', 'key.separator=:'], input: 'k:v\n' },
  { name: 'produce a line without the key separator', tool: 'console-producer', args: [...b, '--topic', 'produced', '--property', 'parse.key=true'], input: 'k\tv\nnovalue\n', except: JAVA_EXCEPTION },
  {
    name: 'produce a line without the key separator, ignore.error',
    tool: 'console-producer',
    args: [...b, '--topic', 'produced', '--property', 'parse.key=true', '--property', 'ignore.error=true'],
    input: 'novalue\n',
  },
  {
    name: 'produce an empty headers field',
    tool: 'console-producer',
    args: [...b, '--topic', 'produced', '--property', 'parse.key=true', '--property', 'parse.headers=true'],
    input: 'h:1\tk\tv\n\tk\tv\n',
    except: JAVA_EXCEPTION,
  },
  { name: 'produce without --topic', tool: 'console-producer', args: [...b], input: 'a\n', except: USAGE_ERROR },
  { name: 'produce with an unknown option', tool: 'console-producer', args: [...b, '--topic', 'produced', '--nope'], input: 'a\n', except: USAGE_ERROR },
  { name: 'produce with a bad bootstrap server', tool: 'console-producer', args: ['--bootstrap-server', 'nohostport', '--topic', 'produced'], input: 'a\n', except: USAGE_ERROR },
];

const consume = (args: string[]) => [...b, '--topic', 'single', '--from-beginning', '--max-messages', '5', ...args];
const consumer: OracleScenario[] = [
  { name: 'consume --from-beginning --max-messages', tool: 'console-consumer', args: consume([]) },
  { name: 'consume print.key', tool: 'console-consumer', args: consume(['--property', 'print.key=true']) },
  {
    name: 'consume every field',
    tool: 'console-consumer',
    args: consume(['--property', 'print.key=true', '--property', 'print.timestamp=true', '--property', 'print.partition=true', '--property', 'print.offset=true', '--property', 'print.headers=true']),
    normalise: timestamps,
  },
  { name: 'consume key.separator and line.separator', tool: 'console-consumer', args: consume(['--property', 'print.key=true', '--property', 'key.separator= | ', '--property', 'line.separator=;\n']) },
  { name: 'consume print.value=false, headers.separator', tool: 'console-consumer', args: consume(['--property', 'print.value=false', '--property', 'print.headers=true', '--property', 'headers.separator=;']) },
  {
    name: 'consume --formatter-property (KIP-1147) as --property',
    tool: 'console-consumer',
    args: consume(['--property', 'print.offset=true']),
    ktsArgs: consume(['--formatter-property', 'print.offset=true']),
  },
  { name: 'consume --partition --offset', tool: 'console-consumer', args: [...b, '--topic', 'single', '--partition', '0', '--offset', '3', '--max-messages', '2', '--property', 'print.offset=true'] },
  { name: 'consume --partition --offset earliest', tool: 'console-consumer', args: [...b, '--topic', 'single', '--partition', '0', '--offset', 'earliest', '--max-messages', '1'] },
  { name: 'consume --timeout-ms before --max-messages', tool: 'console-consumer', args: [...b, '--topic', 'single', '--from-beginning', '--max-messages', '10', '--timeout-ms', '10000'] }, // long enough for a JVM consumer on a loaded machine to fetch the 5 records first
  { name: 'consume --offset without --partition', tool: 'console-consumer', args: [...b, '--topic', 'single', '--offset', '1'], except: USAGE_ERROR },
  { name: 'consume --from-beginning with --offset', tool: 'console-consumer', args: [...b, '--topic', 'single', '--partition', '0', '--offset', '1', '--from-beginning'], except: USAGE_ERROR },
  { name: 'consume a bad --offset', tool: 'console-consumer', args: [...b, '--topic', 'single', '--partition', '0', '--offset', 'soon'], except: USAGE_ERROR },
  { name: 'consume --group with --partition', tool: 'console-consumer', args: [...b, '--topic', 'single', '--partition', '0', '--group', 'g'], except: USAGE_ERROR },
  { name: 'consume without --topic', tool: 'console-consumer', args: [...b], except: USAGE_ERROR },
];

describe('console-producer and console-consumer: kts vs Kafka 3.9', () => {
  let oracle: OracleSuite;

  beforeAll(async () => {
    oracle = await startOracle('console');
    for (const side of oracle.sides()) {
      for (const [topic, partitions] of [['single', 1], ['produced', 2]] as const) {
        const r = await side.run('topics', [...b, '--create', '--topic', topic, '--partitions', String(partitions)]);
        expect(r.code, r.stdout + r.stderr).toBe(0);
      }
      const r = await side.run('console-producer', [...b, '--topic', 'single', '--property', 'parse.key=true', '--property', 'parse.headers=true'], { input: RECORDS.join('\n') + '\n' });
      expect(r.code, r.stderr).toBe(0);
    }
  }, 300_000);

  afterAll(async () => {
    await oracle?.close();
  }, 90_000);

  for (const s of [...producer, ...consumer]) {
    it(`${s.tool} ${s.name}`, async () => {
      await oracle.check(s);
    }, 120_000);
  }

  it('runs live in CI', () => {
    if (interopRequired) expect(oracle.kafka).not.toBeNull();
  });
});
