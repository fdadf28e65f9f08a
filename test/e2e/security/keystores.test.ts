// Java's key and trust stores (issue 16): stores made by Java 17's keytool, PKCS12 and JKS, serve a
// TLS listener with client authentication (ssl.keystore.* and ssl.truststore.* per listener, a JKS
// key under its own ssl.key.password); kafkajs presents a PKCS12 client certificate, and kts's own
// tools read PKCS12 and JKS stores from --command-config. A certificate the truststore does not
// hold is refused; a wrong store password stops the start with Java's message.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, KTS_BIN, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';

const dir = tempDir('kts-keystores-');
const at = (name: string) => join(dir, name);

async function keytool(args: string[]): Promise<void> {
  const r = await run('keytool', args, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`keytool ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
}
const genkey = (alias: string, file: string, type: 'PKCS12' | 'JKS', storepass: string, keypass = storepass) =>
  keytool(['-genkeypair', '-alias', alias, '-keyalg', 'EC', '-groupname', 'secp256r1', '-dname', `CN=${alias}`, '-ext', 'SAN=dns:localhost,ip:127.0.0.1', '-validity', '2', '-storetype', type, '-keystore', at(file), '-storepass', storepass, '-keypass', keypass]);
const exportCert = (alias: string, file: string, storepass: string, out: string) => keytool(['-exportcert', '-rfc', '-alias', alias, '-keystore', at(file), '-storepass', storepass, '-file', at(out)]);
const importCert = (alias: string, pemFile: string, type: 'PKCS12' | 'JKS', file: string, storepass: string) =>
  keytool(['-importcert', '-noprompt', '-alias', alias, '-file', at(pemFile), '-storetype', type, '-keystore', at(file), '-storepass', storepass]);

describe('PKCS12 and JKS stores made by keytool', () => {
  let broker: SpawnedBroker;
  let p12Port: number;
  let jksPort: number;

  const listenerKeys = (listener: string, keys: Record<string, string>) => Object.fromEntries(Object.entries(keys).map(([k, v]) => [`listener.name.${listener}.${k}`, v]));

  beforeAll(async () => {
    await Promise.all([
      genkey('broker', 'broker.p12', 'PKCS12', 'broker-pass'),
      genkey('broker', 'broker.jks', 'JKS', 'broker-pass', 'broker-key'),
      genkey('alice', 'alice.p12', 'PKCS12', 'alice-pass'),
      genkey('mallory', 'mallory.p12', 'PKCS12', 'mallory-pass'),
    ]);
    await Promise.all([exportCert('broker', 'broker.p12', 'broker-pass', 'broker-p12.pem'), exportCert('broker', 'broker.jks', 'broker-pass', 'broker-jks.pem'), exportCert('alice', 'alice.p12', 'alice-pass', 'alice.pem')]);
    // Truststores: the broker's for the clients, alice's for the broker.
    await Promise.all([
      importCert('alice', 'alice.pem', 'PKCS12', 'trust.p12', 'trust-pass'),
      importCert('alice', 'alice.pem', 'JKS', 'trust.jks', 'trust-pass'),
      importCert('broker', 'broker-p12.pem', 'PKCS12', 'client-trust.p12', 'client-pass'),
      importCert('broker', 'broker-jks.pem', 'JKS', 'client-trust.jks', 'client-pass'),
    ]);
    const [plain, p12, jks] = [await freePort(), await freePort(), await freePort()];
    [p12Port, jksPort] = [p12, jks];
    broker = await spawnBroker({
      port: plain,
      overrides: {
        listeners: `PLAINTEXT://127.0.0.1:${plain},P12://127.0.0.1:${p12},JKS://127.0.0.1:${jks}`,
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,P12:SSL,JKS:SSL',
        'ssl.client.auth': 'required',
        ...listenerKeys('p12', { 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': at('broker.p12'), 'ssl.keystore.password': 'broker-pass', 'ssl.truststore.type': 'PKCS12', 'ssl.truststore.location': at('trust.p12'), 'ssl.truststore.password': 'trust-pass' }),
        ...listenerKeys('jks', { 'ssl.keystore.type': 'JKS', 'ssl.keystore.location': at('broker.jks'), 'ssl.keystore.password': 'broker-pass', 'ssl.key.password': 'broker-key', 'ssl.truststore.type': 'JKS', 'ssl.truststore.location': at('trust.jks'), 'ssl.truststore.password': 'trust-pass' }),
      },
    });
  }, 180_000);
  afterAll(() => broker?.stop());

  const kafkajsRoundtrip = async (port: number, caFile: string, pfxFile: string, passphrase: string, topic: string) => {
    const kafka = new Kafka({ brokers: [`localhost:${port}`], ssl: { ca: [readFileSync(at(caFile), 'utf8')], pfx: readFileSync(at(pfxFile)), passphrase }, logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 100 }, connectionTimeout: 5000 });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ value: `${topic}-1` }] });
    } finally {
      await producer.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic))[0].high;
    } finally {
      await admin.disconnect();
    }
  };

  it('kafkajs with a PKCS12 client certificate: accepted on the PKCS12 and the JKS listener; one the truststore lacks is refused', async () => {
    expect(await kafkajsRoundtrip(p12Port, 'broker-p12.pem', 'alice.p12', 'alice-pass', 'via-p12')).toBe('1');
    expect(await kafkajsRoundtrip(jksPort, 'broker-jks.pem', 'alice.p12', 'alice-pass', 'via-jks')).toBe('1');
    await expect(kafkajsRoundtrip(p12Port, 'broker-p12.pem', 'mallory.p12', 'mallory-pass', 'intruder')).rejects.toThrow();
    await expect(kafkajsRoundtrip(jksPort, 'broker-jks.pem', 'mallory.p12', 'mallory-pass', 'intruder')).rejects.toThrow();
  }, 60_000);

  it('the kts tools read PKCS12 and JKS trust stores and a PKCS12 key store from --command-config', async () => {
    for (const [port, trust] of [
      [p12Port, 'client-trust.p12'],
      [jksPort, 'client-trust.jks'],
    ] as const) {
      const file = at(`client-${port}.properties`);
      writeFileSync(file, ['security.protocol=SSL', `ssl.truststore.location=${at(trust)}`, 'ssl.truststore.password=client-pass', 'ssl.keystore.type=PKCS12', `ssl.keystore.location=${at('alice.p12')}`, 'ssl.keystore.password=alice-pass', ''].join('\n'));
      const topic = `tools-${port}`;
      const produced = await run(process.execPath, [KTS_BIN, 'console-producer', '--bootstrap-server', `localhost:${port}`, '--topic', topic, '--producer.config', file], { input: 'hello\n', timeoutMs: 30_000 });
      expect(produced.code, produced.stderr).toBe(0);
      const consumed = await run(process.execPath, [KTS_BIN, 'console-consumer', '--bootstrap-server', `localhost:${port}`, '--topic', topic, '--from-beginning', '--max-messages', '1', '--consumer.config', file], { timeoutMs: 30_000 });
      expect(consumed.stdout).toBe('hello\n');
    }
    // A wrong truststore password: one line, exit 1.
    const wrong = at('wrong.properties');
    writeFileSync(wrong, ['security.protocol=SSL', `ssl.truststore.location=${at('client-trust.jks')}`, 'ssl.truststore.password=nope', ''].join('\n'));
    const refused = await run(process.execPath, [KTS_BIN, 'topics', '--list', '--bootstrap-server', `localhost:${jksPort}`, '--command-config', wrong], { timeoutMs: 30_000 });
    expect(refused.code).toBe(1);
    expect(refused.stdout + refused.stderr).toContain('Keystore was tampered with, or password was incorrect');
  }, 90_000);

  it('a wrong keystore password stops the broker at start with the reason', async () => {
    for (const [type, file, expected] of [
      ['PKCS12', 'broker.p12', /Failed to load SSL keystore .*broker\.p12 of type PKCS12: keystore password was incorrect/],
      ['JKS', 'broker.jks', /Keystore was tampered with, or password was incorrect/],
    ] as const) {
      const port = await freePort();
      const started = await run(process.execPath, [KTS_BIN, 'server-start', '--override', `listeners=SSL://127.0.0.1:${port}`, '--override', `log.dirs=${tempDir('kts-keystores-bad-')}`, '--override', `ssl.keystore.type=${type}`, '--override', `ssl.keystore.location=${at(file)}`, '--override', 'ssl.keystore.password=wrong-pass'], { timeoutMs: 30_000 });
      expect(started.code, started.stdout + started.stderr).toBe(1);
      expect(started.stdout + started.stderr).toMatch(expected);
    }
  }, 60_000);
});
