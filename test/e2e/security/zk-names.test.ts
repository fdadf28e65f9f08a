// Names with '/' in a ZooKeeper cluster (issue 16). A topic name cannot hold one (Kafka's legal
// characters). A SCRAM user can: its znode is /config/users/<name URL-encoded>, as Kafka's Sanitizer
// makes it, so "team/alice" is team%2Falice and not a nested node lost at the next load. A group can
// too (groups live in __consumer_offsets), but an ACL on such a name would be a nested znode: refused
// with INVALID_REQUEST, while a PREFIXED ACL on the part before the '/' covers the group.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZooKeeperClient } from '../../../src/cluster/zookeeper-client.js';
import { freePort, KTS_BIN, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { spawnCoordinator, type SpawnedCoordinator } from '../../helpers/zookeeper.js';

describe("names with '/' in ZooKeeper", () => {
  let coordinator: SpawnedCoordinator;
  let broker: SpawnedBroker;
  let zk: ZooKeeperClient;
  let plainPort: number;
  let saslPort: number;
  const dir = tempDir('kts-zk-names-');
  const alice = join(dir, 'alice.properties');

  const start = () =>
    spawnBroker({
      port: plainPort,
      dataDir: join(dir, 'data'),
      overrides: {
        listeners: `PLAINTEXT://127.0.0.1:${plainPort},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
        'zookeeper.connect': `127.0.0.1:${coordinator.port}/kafka`,
        'zookeeper.session.timeout.ms': '6000',
        'sasl.enabled.mechanisms': 'SCRAM-SHA-256',
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        // The PLAINTEXT listener is the operator's here.
        'super.users': 'User:ANONYMOUS',
      },
    });
  const kts = async (args: string[], input = '') => {
    const r = await run(process.execPath, [KTS_BIN, ...args], { input, timeoutMs: 30_000 });
    return { code: r.code, out: r.stdout + r.stderr };
  };
  const admin = () => ['--bootstrap-server', broker.bootstrap];
  const asAlice = ['--bootstrap-server', '', '--command-config', alice];

  beforeAll(async () => {
    coordinator = await spawnCoordinator({ props: { tickTime: 500 } });
    [plainPort, saslPort] = [await freePort(), await freePort()];
    broker = await start();
    asAlice[1] = `127.0.0.1:${saslPort}`;
    writeFileSync(alice, 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="team/alice" password="alice-secret";\n');
    zk = await ZooKeeperClient.connect(`127.0.0.1:${coordinator.port}/kafka`, { sessionTimeoutMs: 10_000 });
  }, 60_000);
  afterAll(async () => {
    await zk?.close();
    await broker?.stop();
    await coordinator?.stop();
  });

  it("a SCRAM user named team/alice is stored in /config/users/team%2Falice (Kafka's Sanitizer), logs in, and still does after a restart", async () => {
    expect(await kts(['configs', ...admin(), '--alter', '--add-config', 'SCRAM-SHA-256=[password=alice-secret]', '--entity-type', 'users', '--entity-name', 'team/alice'])).toMatchObject({ code: 0 });
    expect(await zk.getChildren('/config/users')).toEqual(['team%2Falice']);
    const changes = await zk.getChildren('/config/changes');
    const notes = await Promise.all(changes.map(async (c) => JSON.parse((await zk.getData(`/config/changes/${c}`)).data!.toString())));
    expect(notes).toContainEqual({ version: 2, entity_path: 'users/team%2Falice' });
    expect((await kts(['configs', ...admin(), '--describe', '--entity-type', 'users'])).out).toBe("SCRAM credential configs for user-principal 'team/alice' are SCRAM-SHA-256=iterations=4096\n");

    expect(await kts(['topics', ...admin(), '--create', '--topic', 'orders', '--partitions', '1'])).toMatchObject({ code: 0 });
    expect(await kts(['acls', ...admin(), '--add', '--allow-principal', 'User:team/alice', '--operation', 'All', '--topic', 'orders'])).toMatchObject({ code: 0 });
    expect(await kts(['acls', ...admin(), '--add', '--allow-principal', 'User:team/alice', '--operation', 'Read', '--group', 'apps', '--resource-pattern-type', 'prefixed'])).toMatchObject({ code: 0 });
    expect(await kts(['console-producer', ...asAlice, '--topic', 'orders'], 'one\ntwo\n')).toMatchObject({ code: 0 });
    const read = await kts(['console-consumer', ...asAlice, '--topic', 'orders', '--group', 'apps/orders', '--from-beginning', '--max-messages', '2']);
    expect(read.out.split('\n').filter((l) => l === 'one' || l === 'two').sort(), read.out).toEqual(['one', 'two']);

    await broker.stop();
    broker = await start();
    const again = await kts(['console-consumer', ...asAlice, '--topic', 'orders', '--group', 'apps/billing', '--from-beginning', '--max-messages', '2']);
    expect(again.out.split('\n').filter((l) => l === 'one' || l === 'two').sort(), again.out).toEqual(['one', 'two']);
    // A wrong password for the same name is still refused.
    writeFileSync(join(dir, 'wrong.properties'), 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="team/alice" password="nope";\n');
    const refused = await kts(['topics', '--bootstrap-server', asAlice[1], '--command-config', join(dir, 'wrong.properties'), '--list']);
    expect(refused.code).toBe(1);
  }, 120_000);

  it("an ACL on a group or prefix with '/' is refused with INVALID_REQUEST (it would be a nested znode) and nothing is written; a topic name with '/' is illegal", async () => {
    const before = await zk.getChildren('/kafka-acl/Group').catch(() => []);
    for (const pattern of ['literal', 'prefixed']) {
      const r = await kts(['acls', ...admin(), '--add', '--allow-principal', 'User:bob', '--operation', 'Read', '--group', 'apps/orders', '--resource-pattern-type', pattern]);
      expect(r.code, r.out).toBe(1);
      expect(r.out).toContain("ACLs on resource name 'apps/orders' cannot be kept in ZooKeeper: it contains '/', ZooKeeper's path separator");
    }
    expect(await zk.getChildren('/kafka-acl/Group').catch(() => [])).toEqual(before);
    expect(await zk.getChildren('/kafka-acl-extended/prefixed/Group')).toEqual(['apps']);
    const listed = await kts(['acls', ...admin(), '--list', '--group', 'apps/orders']);
    expect(listed.out).not.toContain('User:bob');
    const topic = await kts(['topics', ...admin(), '--create', '--topic', 'a/b']);
    expect(topic.code).toBe(1);
    expect(topic.out).toContain('Topic name "a/b" is illegal');
  }, 60_000);
});
