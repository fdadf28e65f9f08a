// The ACL znodes kts writes are Kafka's: Kafka 3.9 (AclAuthorizer, ZooKeeper mode, on kts's
// coordinator) adds ACLs with its own kafka-acls, then a kts broker on the same ZooKeeper lists
// them and adds its own, and Kafka 3.9, started again, lists both: the same /kafka-acl and
// /kafka-acl-extended nodes read and written by either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { KAFKA_3, kafkaLib, type RealKafka, runKafkaTool, startRealKafka } from '../../helpers/real-kafka.js';
import { type SpawnedCoordinator, spawnCoordinator } from '../../helpers/zookeeper.js';
import { kts } from '../cli/support.js';

const installed = !!kafkaLib(KAFKA_3);
const AUTHORIZER = { 'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer', 'super.users': 'User:ANONYMOUS' };

describe.skipIf(!installed)('ACL znodes shared with Kafka 3.9', () => {
  let zk: SpawnedCoordinator;
  let kafka: RealKafka | undefined;
  let broker: SpawnedBroker | undefined;
  beforeAll(async () => {
    zk = await spawnCoordinator();
  });
  afterAll(async () => {
    await kafka?.stop();
    await broker?.stop();
    await zk?.stop();
  });

  it(
    'Kafka writes, kts reads and writes, Kafka reads',
    async () => {
      const connect = `127.0.0.1:${zk.port}`;
      kafka = await startRealKafka(KAFKA_3, { zookeeper: connect, nodeId: 1, props: AUTHORIZER });
      for (const args of [
        ['--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 'a'],
        ['--add', '--deny-principal', 'User:bob', '--operation', 'Write', '--topic', 'pre', '--resource-pattern-type', 'prefixed'],
      ]) {
        const r = await runKafkaTool(KAFKA_3, 'acls', ['--bootstrap-server', kafka.bootstrap, ...args], { timeoutMs: 120_000 });
        expect(r.code, r.stdout + r.stderr).toBe(0);
      }
      await kafka.stop();
      kafka = undefined;

      broker = await spawnBroker({ overrides: { 'zookeeper.connect': connect, 'broker.id': '1', ...AUTHORIZER } });
      const listed = await kts(['acls', '--bootstrap-server', broker.bootstrap, '--list']);
      expect(listed.stdout).toBe(
        'Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=a, patternType=LITERAL)`:\n\t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)\n\n' +
          'Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=pre, patternType=PREFIXED)`:\n\t(principal=User:bob, host=*, operation=WRITE, permissionType=DENY)\n\n',
      );
      const added = await kts(['acls', '--bootstrap-server', broker.bootstrap, '--add', '--allow-principal', 'User:carol', '--operation', 'Describe', '--group', 'gr', '--resource-pattern-type', 'prefixed']);
      expect(added.code, added.stdout + added.stderr).toBe(0);
      await broker.stop();
      broker = undefined;

      kafka = await startRealKafka(KAFKA_3, { zookeeper: connect, nodeId: 1, props: AUTHORIZER });
      const seen = await runKafkaTool(KAFKA_3, 'acls', ['--bootstrap-server', kafka.bootstrap, '--list', '--group', 'gr', '--resource-pattern-type', 'prefixed'], { timeoutMs: 120_000 });
      expect(seen.code, seen.stderr).toBe(0);
      expect(seen.stdout).toContain('ResourcePattern(resourceType=GROUP, name=gr, patternType=PREFIXED)');
      expect(seen.stdout).toContain('(principal=User:carol, host=*, operation=DESCRIBE, permissionType=ALLOW)');
    },
    600_000,
  );
});
