// Third-party clients over a secured listener, each told the same thing in its own terms: kcat and
// confluent-kafka-python (librdkafka), kafkajs and @platformatic/kafka (Node), and Kafka 4.4's Java
// client (JavaRoundtrip.java, PEM key and trust stores as Kafka 2.7+ reads them). `roundtrip` produces
// the values and reads them back from the start of the topic; it rejects with the client's own
// error when the connection or authentication fails.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Consumer, MessagesStreamModes, Producer } from '@platformatic/kafka';
import { run } from '../../helpers/kcat.js';
import { kcatPath } from '../../helpers/tools.js';
import { KAFKA_4, kafkaLib } from '../../helpers/real-kafka.js';
// @ts-expect-error a plain ES module script without types
import { prepareJavaSecurity, preparePython } from '../../../scripts/fetch-clients.mjs';

export interface TlsFiles {
  ca: string;
  /** A PEM with the client's certificate chain (and its key, for clients that read both from one file). */
  cert?: string;
  key?: string;
}

export type Sasl =
  | { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string }
  | { mechanism: 'OAUTHBEARER'; /** librdkafka makes its own unsecured token for this principal */ principal: string; /** Node clients send this token */ token: string };

export interface Security {
  tls?: TlsFiles;
  sasl?: Sasl;
}

export type ClientName = 'kcat' | 'confluent-kafka-python' | 'kafkajs' | 'platformatic' | 'java';

export function protocolOf(s: Security): string {
  return s.sasl ? (s.tls ? 'SASL_SSL' : 'SASL_PLAINTEXT') : s.tls ? 'SSL' : 'PLAINTEXT';
}

/** librdkafka's properties (kcat -X, confluent-kafka). */
export function librdkafkaConf(s: Security): Record<string, string> {
  const conf: Record<string, string> = { 'security.protocol': protocolOf(s).toLowerCase() };
  if (s.tls) {
    conf['ssl.ca.location'] = s.tls.ca;
    if (s.tls.cert) conf['ssl.certificate.location'] = s.tls.cert;
    if (s.tls.key) conf['ssl.key.location'] = s.tls.key;
  }
  if (s.sasl) {
    conf['sasl.mechanisms'] = s.sasl.mechanism;
    if (s.sasl.mechanism === 'OAUTHBEARER') {
      conf['enable.sasl.oauthbearer.unsecure.jwt'] = 'true';
      conf['sasl.oauthbearer.config'] = `principal=${s.sasl.principal}`;
    } else {
      conf['sasl.username'] = s.sasl.username;
      conf['sasl.password'] = s.sasl.password;
    }
  }
  return conf;
}

/** The Java client's properties, and the OAUTHBEARER token it must send as is (if any). */
export function javaConf(s: Security): { conf: Record<string, string>; token?: string } {
  const conf: Record<string, string> = { 'security.protocol': protocolOf(s) };
  if (s.tls) {
    Object.assign(conf, { 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': s.tls.ca });
    // Kafka's PEM keystore is one file with the PKCS#8 key and the chain (kts certs writes them so).
    if (s.tls.cert) Object.assign(conf, { 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': s.tls.cert });
  }
  if (!s.sasl) return { conf };
  conf['sasl.mechanism'] = s.sasl.mechanism;
  if (s.sasl.mechanism === 'OAUTHBEARER') {
    conf['sasl.jaas.config'] = `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="${s.sasl.principal}";`;
    // The client's own unsecured login makes a fresh token for the principal; an expired one can only
    // be sent through a login callback handler (JavaRoundtrip.GivenToken).
    const claims = JSON.parse(Buffer.from(s.sasl.token.split('.')[1], 'base64url').toString('utf8')) as { exp: number };
    return claims.exp * 1000 > Date.now() ? { conf } : { conf, token: s.sasl.token };
  }
  const module = s.sasl.mechanism === 'PLAIN' ? 'org.apache.kafka.common.security.plain.PlainLoginModule' : 'org.apache.kafka.common.security.scram.ScramLoginModule';
  conf['sasl.jaas.config'] = `${module} required username="${s.sasl.username}" password="${s.sasl.password}";`;
  return { conf };
}

function nodeTls(s: Security) {
  if (!s.tls) return undefined;
  return {
    ca: [readFileSync(s.tls.ca, 'utf8')],
    ...(s.tls.cert ? { cert: readFileSync(s.tls.cert, 'utf8') } : {}),
    ...(s.tls.key ? { key: readFileSync(s.tls.key, 'utf8') } : {}),
  };
}

async function viaKcat(bootstrap: string, topic: string, values: string[], s: Security): Promise<string[]> {
  const bin = kcatPath();
  if (!bin) throw new Error('kcat is not installed');
  const x = Object.entries(librdkafkaConf(s)).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
  const produced = await run(bin, ['-b', bootstrap, ...x, '-P', '-t', topic, '-p', '0'], { input: values.join('\n') + '\n', timeoutMs: 20_000 });
  if (produced.code !== 0) throw new Error(`kcat -P exited ${produced.code}: ${produced.stderr}`);
  const consumed = await run(bin, ['-b', bootstrap, ...x, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-c', String(values.length), '-e'], { timeoutMs: 20_000 });
  if (consumed.code !== 0) throw new Error(`kcat -C exited ${consumed.code}: ${consumed.stderr}`);
  return consumed.stdout.split('\n').filter(Boolean);
}

async function viaConfluent(bootstrap: string, topic: string, values: string[], s: Security): Promise<string[]> {
  const script = resolve(import.meta.dirname, 'confluent_roundtrip.py');
  const result = await run('python3', [script, JSON.stringify({ bootstrap, topic, values, conf: librdkafkaConf(s) })], { env: { PYTHONPATH: preparePython() }, timeoutMs: 60_000 });
  const last = result.stdout.trim().split('\n').pop() ?? '';
  let parsed: { consumed?: string[]; error?: string };
  try {
    parsed = JSON.parse(last);
  } catch {
    throw new Error(`confluent-kafka-python exited ${result.code}: ${result.stdout}${result.stderr}`);
  }
  if (parsed.error !== undefined) throw new Error(`confluent-kafka-python: ${parsed.error}`);
  return parsed.consumed!;
}

async function viaJava(bootstrap: string, topic: string, values: string[], s: Security): Promise<string[]> {
  return (await javaRoundtrip(bootstrap, topic, values, s)).consumed;
}

/**
 * The Java client's roundtrip with its producer's metrics (connection and KIP-368 re-authentication
 * counts); spreadMs sends the values one at a time over that long.
 */
export async function javaRoundtrip(bootstrap: string, topic: string, values: string[], s: Security, spreadMs?: number): Promise<{ consumed: string[]; producer: Record<string, number> }> {
  const lib = kafkaLib(KAFKA_4);
  if (!lib) throw new Error('Kafka 4.4 jars are missing (node scripts/fetch-kafka.mjs)');
  const classes = prepareJavaSecurity(lib);
  const spec = JSON.stringify({ bootstrap, topic, values, ...javaConf(s), ...(spreadMs ? { spreadMs } : {}) });
  const result = await run('java', ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto', '-cp', `${classes}:${lib}/*`, 'JavaRoundtrip', spec], { timeoutMs: 170_000 });
  const last = result.stdout.trim().split('\n').pop() ?? '';
  let parsed: { consumed?: string[]; producer?: Record<string, number>; error?: string };
  try {
    parsed = JSON.parse(last);
  } catch {
    throw new Error(`the Java client exited ${result.code}: ${result.stdout}${result.stderr}`.slice(0, 4000));
  }
  if (parsed.error !== undefined) throw new Error(`the Java client: ${parsed.error}`);
  return { consumed: parsed.consumed!, producer: parsed.producer ?? {} };
}

async function viaKafkajs(bootstrap: string, topic: string, values: string[], s: Security): Promise<string[]> {
  const sasl = s.sasl
    ? s.sasl.mechanism === 'OAUTHBEARER'
      ? { mechanism: 'oauthbearer' as const, oauthBearerProvider: async () => ({ value: (s.sasl as { token: string }).token }) }
      : { mechanism: s.sasl.mechanism.toLowerCase() as 'plain', username: s.sasl.username, password: s.sasl.password }
    : undefined;
  const kafka = new Kafka({ clientId: 'kafkajs-security', brokers: bootstrap.split(','), ssl: nodeTls(s), sasl, logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 100 }, connectionTimeout: 5000, authenticationTimeout: 5000 });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  try {
    await producer.send({ topic, messages: values.map((value) => ({ value, partition: 0 })) });
  } finally {
    await producer.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `${topic}-kafkajs`, maxWaitTimeInMs: 200 });
  const got: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`kafkajs consumed ${got.length} of ${values.length}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.value!.toString());
          if (got.length >= values.length) {
            clearTimeout(timer);
            done();
          }
        },
      }).catch(fail);
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

async function viaPlatformatic(bootstrap: string, topic: string, values: string[], s: Security): Promise<string[]> {
  const sasl = s.sasl
    ? s.sasl.mechanism === 'OAUTHBEARER'
      ? { mechanism: 'OAUTHBEARER' as const, token: s.sasl.token }
      : { mechanism: s.sasl.mechanism, username: s.sasl.username, password: s.sasl.password }
    : undefined;
  const base = { clientId: 'platformatic-security', bootstrapBrokers: [bootstrap], tls: nodeTls(s), sasl, retries: 1, retryDelay: 100, connectTimeout: 5000 } as never;
  const producer = new Producer({ ...(base as object), autocreateTopics: true } as never) as Producer<Buffer, Buffer, Buffer, Buffer>;
  try {
    await producer.send({ messages: values.map((v) => ({ topic, partition: 0, value: Buffer.from(v) })) });
  } finally {
    await producer.close();
  }
  const consumer = new Consumer({ ...(base as object), groupId: `${topic}-platformatic`, maxWaitTime: 200 } as never) as Consumer<Buffer, Buffer, Buffer, Buffer>;
  const got: string[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
    for await (const m of stream) {
      got.push(m.value!.toString());
      if (got.length >= values.length) break;
    }
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return got;
}

export function roundtrip(client: ClientName, bootstrap: string, topic: string, values: string[], s: Security): Promise<string[]> {
  switch (client) {
    case 'kcat':
      return viaKcat(bootstrap, topic, values, s);
    case 'confluent-kafka-python':
      return viaConfluent(bootstrap, topic, values, s);
    case 'kafkajs':
      return viaKafkajs(bootstrap, topic, values, s);
    case 'platformatic':
      return viaPlatformatic(bootstrap, topic, values, s);
    case 'java':
      return viaJava(bootstrap, topic, values, s);
  }
}

export const CLIENTS: ClientName[] = ['kcat', 'confluent-kafka-python', 'kafkajs', 'platformatic', 'java'];
