// ACLs in ZooKeeper mode, in Kafka's layout: a LITERAL pattern in /kafka-acl/Topic/<name>, a
// PREFIXED one in /kafka-acl-extended/prefixed/Topic/<prefix>, each Kafka's JSON, and every change
// announced under /kafka-acl-changes or /kafka-acl-extended-changes, on which every broker reloads:
// an ACL created through one broker is enforced by another, and its removal too.
// The brokers run with allow.everyone.if.no.acl.found=true, so User:ANONYMOUS (PLAINTEXT) may do
// whatever no ACL speaks of (the brokers' own replica fetches included) and loses a topic as soon as
// an ACL for someone else names it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KTS_BIN } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { ThreeBrokers } from './three-brokers.js';

const kts = (args: string[]) => run(process.execPath, [KTS_BIN, ...args], { timeoutMs: 60_000 });

describe('ACLs in ZooKeeper', () => {
  const cluster = new ThreeBrokers({ 'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer', 'allow.everyone.if.no.acl.found': 'true' });
  beforeAll(async () => {
    await cluster.start();
    await cluster.createTopic('secret', 1);
    await cluster.createTopic('open', 1);
  }, 120_000);
  afterAll(() => cluster.stop(), 120_000);

  /** The topics broker `id` shows User:ANONYMOUS in an all-topics Metadata. */
  const visible = async (id: number): Promise<string[]> => {
    const client = await RawClient.connect(cluster.brokers.get(id)!.port);
    try {
      const body = await client.request(3, 9, { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
      return (body.topics as { name: string }[]).map((t) => t.name).filter((n) => !n.startsWith('__')).sort();
    } finally {
      client.close();
    }
  };
  const changes = async (path: string): Promise<string[]> => {
    const zk = (cluster as any).zk;
    const children: string[] = await zk.getChildren(path);
    return Promise.all(children.sort().map(async (c) => (await zk.getData(`${path}/${c}`)).data.toString()));
  };

  it('an ACL created through broker 1 is stored as Kafka stores it and enforced by brokers 2 and 3', async () => {
    expect(await visible(3)).toEqual(['open', 'secret']);
    const added = await kts(['acls', '--bootstrap-server', cluster.brokers.get(1)!.bootstrap, '--add', '--allow-principal', 'User:nobody', '--operation', 'Read', '--topic', 'secret']);
    expect(added.code, added.stdout + added.stderr).toBe(0);
    expect(JSON.parse((await cluster.nodeText('/kafka-acl/Topic/secret'))!)).toEqual({
      version: 1,
      acls: [{ principal: 'User:nobody', permissionType: 'Allow', operation: 'Read', host: '*' }],
    });
    expect(await changes('/kafka-acl-changes')).toContain('TOPIC:secret');
    await waitFor('broker 3 hides secret', async () => ((await visible(3)).join() === 'open' ? true : null), 20_000);
    await waitFor('broker 2 hides secret', async () => ((await visible(2)).join() === 'open' ? true : null), 20_000);
  }, 60_000);

  it('a PREFIXED ACL goes to /kafka-acl-extended, and removals reach every broker', async () => {
    const added = await kts(['acls', '--bootstrap-server', cluster.brokers.get(2)!.bootstrap, '--add', '--deny-principal', 'User:ANONYMOUS', '--operation', 'Describe', '--topic', 'op', '--resource-pattern-type', 'prefixed']);
    expect(added.code, added.stdout + added.stderr).toBe(0);
    expect(JSON.parse((await cluster.nodeText('/kafka-acl-extended/prefixed/Topic/op'))!)).toEqual({
      version: 1,
      acls: [{ principal: 'User:ANONYMOUS', permissionType: 'Deny', operation: 'Describe', host: '*' }],
    });
    expect((await changes('/kafka-acl-extended-changes')).map((c) => JSON.parse(c))).toContainEqual({ version: 1, resourceType: 'TOPIC', name: 'op', patternType: 'PREFIXED' });
    await waitFor('broker 1 hides open', async () => ((await visible(1)).length === 0 ? true : null), 20_000);

    // Broker 3 answers from its own cache, reloaded when its watch on the change nodes fires: that
    // broker 1 has the ACL says nothing of when broker 3 has it (Kafka's brokers learn it so too).
    let listed = '';
    const both = ['ResourcePattern(resourceType=TOPIC, name=op, patternType=PREFIXED)', 'ResourcePattern(resourceType=TOPIC, name=secret, patternType=LITERAL)'];
    await waitFor('broker 3 lists both patterns', async () => {
      listed = (await kts(['acls', '--bootstrap-server', cluster.brokers.get(3)!.bootstrap, '--list'])).stdout;
      return both.every((p) => listed.includes(p)) ? true : null;
    }, 20_000).catch((e: Error) => {
      throw new Error(`${e.message}; broker 3 listed:\n${listed}`);
    });

    for (const args of [['--topic', 'secret'], ['--topic', 'op', '--resource-pattern-type', 'prefixed']]) {
      const removed = await kts(['acls', '--bootstrap-server', cluster.brokers.get(3)!.bootstrap, '--remove', '--force', ...args]);
      expect(removed.code, removed.stdout + removed.stderr).toBe(0);
    }
    expect(await cluster.nodeText('/kafka-acl/Topic/secret')).toBeNull();
    expect(await cluster.nodeText('/kafka-acl-extended/prefixed/Topic/op')).toBeNull();
    for (const id of [1, 2, 3]) await waitFor(`broker ${id} shows both again`, async () => ((await visible(id)).join() === 'open,secret' ? true : null), 20_000);
  }, 60_000);
});
