// Issue 16's must-show 4 with real SASL users: a broker with a SASL_PLAINTEXT listener (PLAIN, users
// from its JAAS config) and the ACL authorizer, super.users=User:admin. Alice has Read on topic `a`
// and group `g` (given with `kts acls --command-config`): she consumes `a` (kafkajs and kcat), cannot
// see or read `b`, cannot create topics; admin can do all of it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { freePort, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { kcatPath } from '../../helpers/tools.js';
import { kts } from '../cli/support.js';

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" ' +
  'user_admin="admin-secret" user_alice="alice-secret";';

const users: Record<string, SASLOptions> = {
  admin: { mechanism: 'plain', username: 'admin', password: 'admin-secret' },
  alice: { mechanism: 'plain', username: 'alice', password: 'alice-secret' },
};

const errorType = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: any) => err?.type ?? err?.errors?.[0]?.type ?? err?.originalError?.type ?? String(err),
  );

describe('ACLs with SASL PLAIN users', () => {
  let broker: SpawnedBroker;
  const client = (user: string) => new Kafka({ clientId: `acl-${user}`, brokers: [broker.bootstrap], sasl: users[user], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const configFile = (user: string) => {
    const path = join(tempDir('acls-sasl-'), `${user}.properties`);
    writeFileSync(path, `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${user}" password="${user}-secret";\n`);
    return path;
  };
  const kcatAs = (user: string, args: string[]) =>
    run(kcatPath()!, ['-b', broker.bootstrap, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${user}`, '-X', `sasl.password=${user}-secret`, ...args], { timeoutMs: 30_000 });

  beforeAll(async () => {
    const port = await freePort();
    broker = await spawnBroker({
      port,
      overrides: {
        listeners: `SASL_PLAINTEXT://127.0.0.1:${port}`,
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:admin',
      },
    });
    const admin = client('admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'a' }, { topic: 'b' }] });
    await admin.disconnect();
    const producer = client('admin').producer();
    await producer.connect();
    await producer.send({ topic: 'a', messages: [{ value: 'for-a' }] });
    await producer.send({ topic: 'b', messages: [{ value: 'for-b' }] });
    await producer.disconnect();
    const granted = await kts(['acls', '--bootstrap-server', broker.bootstrap, '--command-config', configFile('admin'), '--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 'a', '--group', 'g']);
    expect(granted.code, granted.stdout + granted.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await broker?.stop();
  });

  it('alice may not manage ACLs; admin lists them with kts acls', async () => {
    const denied = await kts(['acls', '--bootstrap-server', broker.bootstrap, '--command-config', configFile('alice'), '--list']);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('Error while executing ACL command: org.apache.kafka.common.errors.ClusterAuthorizationException');
    const listed = await kts(['acls', '--bootstrap-server', broker.bootstrap, '--command-config', configFile('admin'), '--list', '--principal', 'User:alice']);
    expect(listed.stdout).toBe(
      'ACLs for principal `User:alice`\n' +
        'Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=a, patternType=LITERAL)`:\n\t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)\n\n' +
        'Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=g, patternType=LITERAL)`:\n\t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)\n\n',
    );
  });

  it('alice consumes a in group g (kafkajs)', async () => {
    const consumer = client('alice').consumer({ groupId: 'g' });
    await consumer.connect();
    const values: string[] = [];
    try {
      await consumer.subscribe({ topic: 'a', fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
        void consumer.run({
          eachMessage: async ({ message }) => {
            values.push(message.value!.toString());
            resolve();
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    expect(values).toEqual(['for-a']);
  });

  it('alice cannot see or read b, nor create topics (kafkajs)', async () => {
    const admin = client('alice').admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).toEqual(['a']);
      expect(await errorType(admin.fetchTopicMetadata({ topics: ['b'] }))).toBe('TOPIC_AUTHORIZATION_FAILED');
      expect(await errorType(admin.createTopics({ topics: [{ topic: 'alices' }] }))).toBe('TOPIC_AUTHORIZATION_FAILED');
    } finally {
      await admin.disconnect();
    }
    const consumer = client('alice').consumer({ groupId: 'g' });
    await consumer.connect();
    expect(await errorType(consumer.subscribe({ topic: 'b', fromBeginning: true }))).toBe('TOPIC_AUTHORIZATION_FAILED');
    await consumer.disconnect();
  });

  it.skipIf(!kcatPath())('alice reads a and not b with kcat; admin reads b', async () => {
    const listing = await kcatAs('alice', ['-L']);
    expect(listing.stdout).toContain('topic "a"');
    expect(listing.stdout).not.toContain('topic "b"');
    const a = await kcatAs('alice', ['-C', '-t', 'a', '-o', 'beginning', '-c', '1', '-e', '-f', '%s\n']);
    expect(a.stdout).toBe('for-a\n');
    const b = await kcatAs('alice', ['-C', '-t', 'b', '-o', 'beginning', '-c', '1', '-e', '-f', '%s\n']);
    expect(b.code).not.toBe(0);
    expect(b.stdout).toBe('');
    expect(b.stderr).toMatch(/Topic authorization failed|TOPIC_AUTHORIZATION_FAILED/);
    const asAdmin = await kcatAs('admin', ['-C', '-t', 'b', '-o', 'beginning', '-c', '1', '-e', '-f', '%s\n']);
    expect(asAdmin.stdout).toBe('for-b\n');
  });

  it('admin sees every topic and creates topics', async () => {
    const admin = client('admin').admin();
    await admin.connect();
    try {
      expect((await admin.listTopics()).filter((t) => !t.startsWith('__')).sort()).toEqual(['a', 'b']);
      expect(await admin.createTopics({ topics: [{ topic: 'admins' }] })).toBe(true);
    } finally {
      await admin.disconnect();
    }
  });
});
