// The oracle for `kts acls`: Kafka 4.4's kafka-acls (AclCommand) against a real Kafka 4.4 (KRaft,
// StandardAuthorizer) and `kts acls` against a kts broker with the authorizer, the same commands in
// the same order on both; stdout, stderr and exit code compared. What is compared otherwise, and why:
// - Kafka prints resources and their entries from Java hash sets, in an order that changes from run
//   to run (two runs of the same command differ): both outputs are compared with the blocks, and the
//   lines in each, sorted; kts prints them sorted.
// - A usage error: Kafka prints its option table after the message, kts a pointer to --help
//   (USAGE_ERROR); the "only supports operations [...]" list comes from a hash set too: sorted.
// - A Java exception: Kafka prints its stack frames after the message (JAVA_FRAMES): left out.
// - The brokers' principal for these PLAINTEXT commands is User:ANONYMOUS, a super user on both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { type Outcome, USAGE_ERROR } from '../../helpers/oracle.js';
import { KAFKA_4, kafkaLib, type RealKafka, runKafkaTool, startRealKafka } from '../../helpers/real-kafka.js';
import { kts } from '../cli/support.js';

const installed = !!kafkaLib(KAFKA_4);

/**
 * Each resource's block ("Current ACLs for resource ..." or "Adding ACLs for resource ..." with its
 * entry lines) with the entries sorted, and the blocks sorted; the other lines (blank ones, "ACLs
 * for principal ...") kept in their order before them. The first entry of an "Adding" block has a
 * space before its tab, wherever the hash order put it: taken out.
 */
function hashOrder(text: string): string {
  const loose: string[] = [];
  const blocks: string[][] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('Current ACLs for resource') || line.startsWith('Adding ACLs for resource')) blocks.push([line]);
    else if (line.startsWith('\t') || line.startsWith(' \t')) (blocks.at(-1) ?? loose).push(line.replace(/^ \t/, '\t'));
    else loose.push(line);
  }
  return [...loose, ...blocks.map((b) => [b[0], ...b.slice(1).sort()].join('\n')).sort()].join('\n');
}
const sortedOperations = (line: string) => line.replace(/\[([A-Z_, ]+)\]$/, (_, list: string) => `[${list.split(', ').sort().join(', ')}]`);
const JAVA_FRAMES = (o: Outcome) => ({ code: o.code, stderr: o.stderr, stdout: o.stdout.split('\n').filter((l) => !/^\tat |^\t\.\.\. \d+ more$/.test(l)).join('\n') });

interface Scenario {
  name: string;
  args: string[];
  compare?: (o: Outcome) => unknown;
}

const b = ['--bootstrap-server', '{bootstrap}'];
const asListed = (o: Outcome) => ({ ...o, stdout: hashOrder(o.stdout) });
const usage = (o: Outcome) => {
  const u = USAGE_ERROR.compare(o);
  return { ...u, message: sortedOperations(u.message) };
};

const scenarios: Scenario[] = [
  { name: 'list with no ACLs', args: [...b, '--list'] },
  { name: 'add Read on a topic', args: [...b, '--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 'a'] },
  { name: 'add it again', args: [...b, '--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 'a'] },
  { name: 'add Read on a group', args: [...b, '--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--group', 'g'] },
  { name: 'add a prefixed DENY for a host', args: [...b, '--add', '--deny-principal', 'User:bob', '--deny-host', '10.0.0.1', '--operation', 'Write', '--topic', 'pre', '--resource-pattern-type', 'prefixed'] },
  { name: 'add Create on the cluster', args: [...b, '--add', '--allow-principal', 'User:carol', '--cluster', '--operation', 'Create'] },
  { name: 'add Write on a transactional id', args: [...b, '--add', '--allow-principal', 'User:dave', '--operation', 'Write', '--transactional-id', 'tx'] },
  { name: 'add --producer', args: [...b, '--add', '--producer', '--allow-principal', 'User:p', '--topic', 'pt'], compare: asListed },
  { name: 'add --consumer', args: [...b, '--add', '--consumer', '--allow-principal', 'User:c', '--topic', 'ct', '--group', 'cg'], compare: asListed },
  { name: 'add for two principals and hosts', args: [...b, '--add', '--allow-principal', 'User:x', '--allow-principal', 'User:y', '--allow-host', '1.2.3.4', '--operation', 'Describe', '--topic', 'h'], compare: asListed },
  { name: 'list everything', args: [...b, '--list'], compare: asListed },
  { name: 'list a topic', args: [...b, '--list', '--topic', 'a'] },
  { name: 'list what matches a topic name', args: [...b, '--list', '--topic', 'pre-x', '--resource-pattern-type', 'match'] },
  { name: 'list the cluster', args: [...b, '--list', '--cluster'] },
  { name: 'list by principal', args: [...b, '--list', '--principal', 'User:alice'], compare: asListed },
  { name: 'list a topic without ACLs', args: [...b, '--list', '--topic', 'none'] },
  { name: 'remove one entry', args: [...b, '--remove', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 'a', '--force'] },
  { name: 'remove a whole group resource', args: [...b, '--remove', '--group', 'g', '--force'] },
  { name: 'remove --consumer', args: [...b, '--remove', '--consumer', '--allow-principal', 'User:c', '--topic', 'ct', '--group', 'cg', '--force'] },
  { name: 'remove a prefixed pattern', args: [...b, '--remove', '--topic', 'pre', '--resource-pattern-type', 'prefixed', '--force'] },
  { name: 'list after the removals', args: [...b, '--list'], compare: asListed },
  { name: 'add without a principal', args: [...b, '--add', '--topic', 'a'], compare: usage },
  { name: 'add with pattern type any', args: [...b, '--add', '--allow-principal', 'User:x', '--operation', 'Read', '--topic', 'a', '--resource-pattern-type', 'any'], compare: usage },
  { name: 'add an operation the topic lacks', args: [...b, '--add', '--allow-principal', 'User:x', '--operation', 'ClusterAction', '--topic', 'a'], compare: usage },
  { name: 'add an unknown operation', args: [...b, '--add', '--allow-principal', 'User:x', '--operation', 'Bogus', '--topic', 'a'], compare: usage },
  { name: 'two actions', args: [...b, '--list', '--add'], compare: usage },
  { name: 'no action', args: [...b], compare: usage },
  { name: 'list with a principal to allow', args: [...b, '--list', '--allow-principal', 'User:x'], compare: usage },
  { name: '--consumer without a group', args: [...b, '--add', '--consumer', '--allow-principal', 'User:c', '--topic', 'ct'], compare: usage },
  { name: '--producer without a topic', args: [...b, '--add', '--producer', '--allow-principal', 'User:c', '--group', 'x'], compare: usage },
  { name: 'add without a resource', args: [...b, '--add', '--allow-principal', 'User:x', '--operation', 'Read'], compare: usage },
  { name: 'a principal without a type', args: [...b, '--add', '--allow-principal', 'alice', '--operation', 'Read', '--topic', 'a'], compare: JAVA_FRAMES },
  { name: 'an unknown pattern type', args: [...b, '--add', '--allow-principal', 'User:x', '--resource-pattern-type', 'bogus', '--topic', 'a'], compare: JAVA_FRAMES },
];

describe.skipIf(!installed)('kts acls against Kafka 4.4 kafka-acls', () => {
  let kafka: RealKafka;
  let broker: SpawnedBroker;
  let plainKafka: RealKafka | undefined;
  let plainBroker: SpawnedBroker | undefined;
  const authorizer = { 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users': 'User:ANONYMOUS' };

  beforeAll(async () => {
    [kafka, broker] = await Promise.all([startRealKafka(KAFKA_4, { props: authorizer }), spawnBroker({ overrides: authorizer })]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([kafka?.stop(), broker?.stop(), plainKafka?.stop(), plainBroker?.stop()]);
  });

  const both = async (args: string[], kafkaBootstrap: string, ktsBootstrap: string) => {
    const fill = (bootstrap: string) => args.map((a) => a.replaceAll('{bootstrap}', bootstrap));
    const [k, t] = await Promise.all([runKafkaTool(KAFKA_4, 'acls', fill(kafkaBootstrap), { timeoutMs: 120_000 }), kts(['acls', ...fill(ktsBootstrap)], { timeoutMs: 60_000 })]);
    const strip = (o: Outcome, bootstrap: string): Outcome => ({ code: o.code, stdout: o.stdout.replaceAll(bootstrap, '{bootstrap}'), stderr: o.stderr.replaceAll(bootstrap, '{bootstrap}') });
    return { kafka: strip(k, kafkaBootstrap), kts: strip({ code: t.code, stdout: t.stdout, stderr: t.stderr }, ktsBootstrap) };
  };

  it(
    'prints what Kafka 4.4 prints, scenario by scenario',
    async () => {
      const differences: string[] = [];
      for (const s of scenarios) {
        const out = await both(s.args, kafka.bootstrap, broker.bootstrap);
        const compare = s.compare ?? ((o: Outcome) => o);
        const [k, t] = [JSON.stringify(compare(out.kafka), null, 1), JSON.stringify(compare(out.kts), null, 1)];
        if (k !== t) differences.push(`${s.name}:\n  kafka: ${k}\n  kts:   ${t}`);
      }
      expect(differences.join('\n')).toBe('');
    },
    900_000,
  );

  it(
    'fails as Kafka 4.4 does against a broker without an authorizer',
    async () => {
      [plainKafka, plainBroker] = await Promise.all([startRealKafka(KAFKA_4), spawnBroker()]);
      for (const args of [[...b, '--list'], [...b, '--add', '--allow-principal', 'User:x', '--operation', 'Read', '--topic', 'a']]) {
        const out = await both(args, plainKafka.bootstrap, plainBroker.bootstrap);
        expect(JAVA_FRAMES(out.kts)).toEqual(JAVA_FRAMES(out.kafka));
        expect(out.kts.code).toBe(1);
      }
    },
    300_000,
  );
});
