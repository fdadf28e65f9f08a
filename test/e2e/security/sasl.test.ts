// SASL listeners (issue 16 must-show 1, 2, 3, 5): kcat, confluent-kafka-python, kafkajs,
// @platformatic/kafka and the Java client (4.4) produce and consume over SASL_SSL with PLAIN and SCRAM-SHA-512 and over
// SASL_PLAINTEXT with OAUTHBEARER; a wrong password, an unknown user or an expired token gets
// SASL_AUTHENTICATION_FAILED and a closed connection, never topic data; before authentication only
// ApiVersions and the SASL requests are served and a request over 512 KiB is refused from its size
// prefix; the kts tools work with --command-config.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '../../../src/index.js';
import { unsecuredToken } from '../../../src/client/sasl.js';
import { freePort, KTS_BIN, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { RawClient } from '../../helpers/raw-client.js';
import { CLIENTS, roundtrip, type Security } from './clients.js';
import { makeCerts, type Certs } from './support.js';

const PLAIN_JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';

describe('SASL listeners (kts server-start)', () => {
  let certs: Certs;
  let broker: SpawnedBroker;
  let saslSsl: string;
  let saslPlain: string;
  let saslPlainPort: number;
  const dir = tempDir('kts-sasl-');

  const kts = async (args: string[], input = '') => {
    const r = await run(process.execPath, [KTS_BIN, ...args], { input, timeoutMs: 30_000 });
    return { code: r.code, out: r.stdout, err: r.stderr };
  };

  beforeAll(async () => {
    certs = makeCerts();
    const [plain, ssl, sp] = [await freePort(), await freePort(), await freePort()];
    saslSsl = `127.0.0.1:${ssl}`;
    saslPlain = `127.0.0.1:${sp}`;
    saslPlainPort = sp;
    broker = await spawnBroker({
      port: plain,
      overrides: {
        listeners: `PLAINTEXT://127.0.0.1:${plain},SASL_SSL://127.0.0.1:${ssl},SASL_PLAINTEXT://127.0.0.1:${sp}`,
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': certs.broker,
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
        'listener.name.sasl_ssl.plain.sasl.jaas.config': PLAIN_JAAS,
      },
    });
    // SCRAM users are made with Kafka's command, over the PLAINTEXT listener.
    const made = await kts(['configs', '--bootstrap-server', broker.bootstrap, '--alter', '--add-config', 'SCRAM-SHA-512=[password=bob-secret],SCRAM-SHA-256=[iterations=8192,password=bob-secret]', '--entity-type', 'users', '--entity-name', 'bob']);
    expect(made).toMatchObject({ code: 0, out: 'Completed updating config for user bob.\n' });
  }, 60_000);
  afterAll(() => broker?.stop());

  const plain = (password = 'alice-secret', username = 'alice'): Security => ({ tls: { ca: certs.ca }, sasl: { mechanism: 'PLAIN', username, password } });
  const scram = (password = 'bob-secret', username = 'bob'): Security => ({ tls: { ca: certs.ca }, sasl: { mechanism: 'SCRAM-SHA-512', username, password } });
  const oauth = (token = unsecuredToken('carol')): Security => ({ sasl: { mechanism: 'OAUTHBEARER', principal: 'carol', token } });

  it.each(CLIENTS)('%s: SASL_SSL with PLAIN produces and consumes', async (client) => {
    const values = [`${client}-plain-1`, `${client}-plain-2`];
    expect(await roundtrip(client, saslSsl, `plain-${client}`, values, plain())).toEqual(values);
  }, 180_000);

  it.each(CLIENTS)('%s: SASL_SSL with SCRAM-SHA-512 produces and consumes', async (client) => {
    const values = [`${client}-scram-1`, `${client}-scram-2`];
    expect(await roundtrip(client, saslSsl, `scram-${client}`, values, scram())).toEqual(values);
  }, 180_000);

  it.each(CLIENTS)('%s: SASL_PLAINTEXT with OAUTHBEARER (unsecured JWS) produces and consumes', async (client) => {
    const values = [`${client}-oauth-1`, `${client}-oauth-2`];
    expect(await roundtrip(client, saslPlain, `oauth-${client}`, values, oauth())).toEqual(values);
  }, 180_000);

  it.each(CLIENTS)('%s: a wrong password, an unknown user and an expired token are refused, and nothing is read or written', async (client) => {
    const topic = `refused-${client}`;
    await roundtrip('kcat', saslSsl, topic, ['kept-1'], plain());
    await expect(roundtrip(client, saslSsl, topic, ['intruder'], plain('wrong'))).rejects.toThrow();
    await expect(roundtrip(client, saslSsl, topic, ['intruder'], scram('bob-secret', 'nobody'))).rejects.toThrow();
    await expect(roundtrip(client, saslSsl, topic, ['intruder'], scram('wrong'))).rejects.toThrow();
    // librdkafka makes its own (valid) token; the Node clients send the expired one, and so does the
    // Java client through a login callback handler.
    if (client !== 'kcat' && client !== 'confluent-kafka-python') {
      await expect(roundtrip(client, saslPlain, topic, ['intruder'], oauth(unsecuredToken('carol', -60)))).rejects.toThrow();
    }
    const out = await run(process.execPath, [KTS_BIN, 'console-consumer', '--bootstrap-server', broker.bootstrap, '--topic', topic, '--from-beginning', '--timeout-ms', '3000']);
    expect(out.stdout).toBe('kept-1\n');
  }, 300_000);

  const handshake = async (raw: RawClient, mechanism: string) => {
    const h = await raw.request(ApiKey.SaslHandshake, 1, { mechanism });
    expect(h.errorCode).toBe(ErrorCode.NONE);
  };

  it('each refusal answers SASL_AUTHENTICATION_FAILED, then the connection closes before anything else is served', async () => {
    const cases: [string, Buffer][] = [
      ['PLAIN', Buffer.from('\u0000alice\u0000wrong')],
      ['PLAIN', Buffer.from('\u0000mallory\u0000alice-secret')],
      ['OAUTHBEARER', Buffer.from(`n,,\u0001auth=Bearer ${unsecuredToken('carol', -60)}\u0001\u0001`)],
      ['OAUTHBEARER', Buffer.from(`n,,\u0001auth=Bearer ${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', exp: Date.now() / 1000 + 60 })).toString('base64url')}.\u0001\u0001`)],
      ['SCRAM-SHA-512', Buffer.from('n,,n=nobody,r=abcdefgh')],
    ];
    for (const [mechanism, token] of cases) {
      const raw = await RawClient.connect(saslPlainPort);
      try {
        await handshake(raw, mechanism);
        const answer = await raw.request(ApiKey.SaslAuthenticate, 2, { authBytes: token });
        expect(answer.errorCode, `${mechanism} ${token}`).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
        await raw.waitClosed();
      } finally {
        raw.close();
      }
    }
  });

  it('before authentication: ApiVersions is answered, Metadata closes the connection unanswered, an unknown mechanism is UNSUPPORTED_SASL_MECHANISM', async () => {
    const raw = await RawClient.connect(saslPlainPort);
    const versions = await raw.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    expect(versions.errorCode).toBe(0);
    expect(versions.apiKeys.map((k: { apiKey: number }) => k.apiKey)).toEqual(expect.arrayContaining([17, 36]));
    let answered = false;
    raw.request(ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }).then(() => (answered = true), () => {});
    await raw.waitClosed();
    expect(answered).toBe(false);

    const raw2 = await RawClient.connect(saslPlainPort);
    const h = await raw2.request(ApiKey.SaslHandshake, 1, { mechanism: 'GSSAPI' });
    expect(h.errorCode).toBe(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    expect(h.mechanisms).toEqual(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']);
    await raw2.waitClosed();

    // Skipping the handshake does not help either.
    const raw3 = await RawClient.connect(saslPlainPort);
    raw3.request(ApiKey.Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [] }).catch(() => {});
    await raw3.waitClosed();
  });

  it('a 600 KiB request before authentication is refused from its size prefix (the body is never sent, nothing waits for it)', async () => {
    const raw = await RawClient.connect(saslPlainPort);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(600 * 1024);
    // Only the size and a few bytes: a broker that waited for (or allocated) the body would keep the connection.
    raw.socket.write(Buffer.concat([prefix, Buffer.from([0, 17, 0, 1, 0, 0, 0, 1])]));
    await raw.waitClosed(5000);
    expect(broker.output()).toMatch(/Frame size 614400 larger than 524288 \(sasl.server.max.receive.size, before authentication\); request refused/);
    // Once authenticated the usual limit (socket.request.max.bytes) applies: a 600 KiB produce goes through.
    const big = 'x'.repeat(600 * 1024);
    expect((await roundtrip('kafkajs', saslPlain, 'big-after-auth', [big], oauth()))[0].length).toBe(big.length);
  }, 60_000);

  it('the kts tools work against SASL_SSL with --command-config (SCRAM-SHA-512) and are refused with a wrong password', async () => {
    const config = join(dir, 'client.properties');
    writeFileSync(
      config,
      [
        'security.protocol=SASL_SSL',
        'sasl.mechanism=SCRAM-SHA-512',
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="bob" password="bob-secret";',
        'ssl.truststore.type=PEM',
        `ssl.truststore.location=${certs.ca}`,
      ].join('\n'),
    );
    const bad = join(dir, 'bad.properties');
    writeFileSync(bad, `security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="nope";\nssl.truststore.location=${certs.ca}\n`);
    const b = ['--bootstrap-server', saslSsl];
    expect(await kts(['topics', ...b, '--command-config', config, '--create', '--topic', 'tools', '--partitions', '2'])).toMatchObject({ code: 0, out: 'Created topic tools.\n' });
    expect((await kts(['topics', ...b, '--command-config', config, '--list'])).out).toContain('tools\n');
    expect(await kts(['console-producer', ...b, '--producer.config', config, '--topic', 'tools'], 'one\ntwo\n')).toMatchObject({ code: 0 });
    const consumed = await kts(['console-consumer', ...b, '--consumer.config', config, '--topic', 'tools', '--from-beginning', '--max-messages', '2', '--group', 'tools-g']);
    expect(consumed.out.split('\n').filter(Boolean).sort()).toEqual(['one', 'two']);
    expect((await kts(['consumer-groups', ...b, '--command-config', config, '--list'])).out).toContain('tools-g');
    expect((await kts(['configs', ...b, '--command-config', config, '--describe', '--entity-type', 'users', '--entity-name', 'bob'])).out).toBe(
      "SCRAM credential configs for user-principal 'bob' are SCRAM-SHA-512=iterations=4096, SCRAM-SHA-256=iterations=8192\n",
    );
    const refused = await kts(['topics', ...b, '--command-config', bad, '--list']);
    expect(refused.code).toBe(1);
    expect(refused.out + refused.err).toContain('Authentication failed: Invalid username or password');
    // The same tool over PLAINTEXT settings against the SASL port is not served.
    const plaintext = await kts(['topics', ...b, '--list'], '');
    expect(plaintext.code).not.toBe(0);
  }, 120_000);

  it('kts configs manages SCRAM credentials as Kafka: delete one mechanism, refuse too few iterations, describe what is left', async () => {
    const b = ['--bootstrap-server', broker.bootstrap];
    const tooFew = await kts(['configs', ...b, '--alter', '--add-config', 'SCRAM-SHA-256=[iterations=100,password=x]', '--entity-type', 'users', '--entity-name', 'dave']);
    expect(tooFew.code).toBe(1);
    expect(tooFew.out + tooFew.err).toContain('Too few iterations');
    expect(await kts(['configs', ...b, '--alter', '--add-config', 'SCRAM-SHA-256=[password=dave-secret]', '--entity-type', 'users', '--entity-name', 'dave'])).toMatchObject({ code: 0 });
    expect(await kts(['configs', ...b, '--alter', '--delete-config', 'SCRAM-SHA-512', '--entity-type', 'users', '--entity-name', 'dave'])).toMatchObject({ code: 1 });
    expect((await kts(['configs', ...b, '--describe', '--entity-type', 'users'])).out).toBe(
      "SCRAM credential configs for user-principal 'bob' are SCRAM-SHA-512=iterations=4096, SCRAM-SHA-256=iterations=8192\n" +
        "SCRAM credential configs for user-principal 'dave' are SCRAM-SHA-256=iterations=4096\n",
    );
    expect(await kts(['configs', ...b, '--alter', '--delete-config', 'SCRAM-SHA-256', '--entity-type', 'users', '--entity-name', 'dave'])).toMatchObject({ code: 0 });
    await expect(roundtrip('kafkajs', saslSsl, 'dave', ['d'], { tls: { ca: certs.ca }, sasl: { mechanism: 'SCRAM-SHA-256', username: 'dave', password: 'dave-secret' } })).rejects.toThrow();
  }, 60_000);
});
