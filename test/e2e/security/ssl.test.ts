// SSL listeners (issue 16 must-show 1 and 2 for TLS): five third-party clients (the Java client among them) produce and consume
// over TLS with client certificates; a certificate from another CA, or none where one is required,
// ends in a TLS alert and not one byte of topic data; the principal is the certificate's subject.
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerHandle } from '../../../src/index.js';
import { freePort, spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { CLIENTS, roundtrip } from './clients.js';
import { makeCerts, tlsOverrides, type Certs } from './support.js';

describe('SSL listener with ssl.client.auth=required (kts server-start)', () => {
  let certs: Certs;
  let stranger: Certs;
  let broker: SpawnedBroker;
  let sslBootstrap: string;

  beforeAll(async () => {
    certs = makeCerts(['alice']);
    stranger = makeCerts(['mallory']);
    const [plain, ssl] = [await freePort(), await freePort()];
    sslBootstrap = `127.0.0.1:${ssl}`;
    broker = await spawnBroker({ port: plain, overrides: { listeners: `PLAINTEXT://127.0.0.1:${plain},SSL://127.0.0.1:${ssl}`, ...tlsOverrides(certs, 'required') } });
  }, 60_000);
  afterAll(() => broker?.stop());

  it.each(CLIENTS)('%s produces and consumes over TLS with a client certificate', async (client) => {
    const values = Array.from({ length: 5 }, (_, i) => `${client}-tls-${i}`);
    const got = await roundtrip(client, sslBootstrap, `tls-${client}`, values, { tls: { ca: certs.ca, cert: certs.client('alice'), key: certs.client('alice') } });
    expect(got).toEqual(values);
  }, 90_000);

  it.each(CLIENTS)('%s with a certificate from another CA, or none, is refused by a TLS alert and reads nothing', async (client) => {
    const seeded = Array.from({ length: 3 }, (_, i) => `secret-${i}`);
    await roundtrip('kcat', sslBootstrap, `tls-secret-${client}`, seeded, { tls: { ca: certs.ca, cert: certs.client('alice'), key: certs.client('alice') } });
    const foreign = { tls: { ca: certs.ca, cert: stranger.client('mallory'), key: stranger.client('mallory') } };
    await expect(roundtrip(client, sslBootstrap, `tls-secret-${client}`, ['intruder'], foreign)).rejects.toThrow();
    await expect(roundtrip(client, sslBootstrap, `tls-secret-${client}`, ['intruder'], { tls: { ca: certs.ca } })).rejects.toThrow();
    // The topic holds only what alice wrote.
    expect(await roundtrip('kcat', sslBootstrap, `tls-secret-${client}`, [], { tls: { ca: certs.ca, cert: certs.client('alice'), key: certs.client('alice') } }).catch(() => null)).not.toContain('intruder');
  }, 120_000);

  it('a raw TLS connection with a foreign certificate is ended before any Kafka answer (its ApiVersions goes unanswered)', async () => {
    const err = await new Promise<Error>((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: Number(sslBootstrap.split(':')[1]),
        ca: readFileSync(certs.ca),
        cert: readFileSync(stranger.client('mallory')),
        key: readFileSync(stranger.client('mallory')),
        servername: 'localhost',
      });
      let received = 0;
      socket.on('data', (d) => (received += d.length));
      socket.on('error', (e) => resolve(e));
      socket.on('close', () => resolve(new Error(`closed after ${received} bytes`)));
      // TLS 1.3: the client finishes first; the server's verdict comes as an alert on the first read.
      socket.on('secureConnect', () => socket.write(Buffer.from([0, 0, 0, 4, 0, 18, 0, 0])));
    });
    // TLS 1.3 lets the client finish its side first; the server then refuses and closes: no answer, no bytes.
    expect(err.message).toMatch(/alert|unknown ca|certificate|closed after 0 bytes/i);
  });

  it('a PLAINTEXT client on the TLS port gets nothing; the PLAINTEXT listener still serves', async () => {
    await expect(roundtrip('kafkajs', sslBootstrap, 'plain-on-tls', ['x'], {})).rejects.toThrow();
    expect(await roundtrip('kafkajs', broker.bootstrap, 'plain-ok', ['y'], {})).toEqual(['y']);
  }, 60_000);
});

describe('principal and client auth modes (startBroker)', () => {
  let certs: Certs;
  let broker: BrokerHandle;
  afterAll(() => broker?.close());

  it('with ssl.client.auth=requested a client may come without a certificate (User:ANONYMOUS); with one it is User:<subject DN>', async () => {
    certs = makeCerts(['alice']);
    broker = await startBroker({ storage: 'memory', logLevel: 'error', overrides: { listeners: 'SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0', ...tlsOverrides(certs, 'requested') } });
    expect(broker.listeners.map((l) => [l.name, l.securityProtocol])).toEqual([['SSL', 'SSL'], ['PLAINTEXT', 'PLAINTEXT']]);
    const ssl = broker.listeners[0].bootstrap;
    expect(await roundtrip('kafkajs', ssl, 'anon', ['a'], { tls: { ca: certs.ca } })).toEqual(['a']);
    expect(new Set(broker.requests().map((r) => r.principal))).toEqual(new Set(['User:ANONYMOUS']));
    broker.clearRequests();
    expect(await roundtrip('kafkajs', ssl, 'alice', ['b'], { tls: { ca: certs.ca, cert: certs.client('alice'), key: certs.client('alice') } })).toEqual(['b']);
    expect(new Set(broker.requests().map((r) => r.principal))).toEqual(new Set(['User:CN=alice,OU=client,O=kts']));
    broker.clearRequests();
    expect(await roundtrip('kafkajs', broker.listeners[1].bootstrap, 'plain', ['c'], {})).toEqual(['c']);
    expect(new Set(broker.requests().map((r) => r.principal))).toEqual(new Set(['User:ANONYMOUS']));
  }, 60_000);

  it('each listener answers Metadata with its own endpoints (advertised per listener)', async () => {
    const plain = broker.listeners[1];
    const ssl = broker.listeners[0];
    broker.clearRequests();
    await roundtrip('kafkajs', ssl.bootstrap, 'adv', ['d'], { tls: { ca: certs.ca } });
    const metadata = broker.requests().filter((r) => r.apiKey === 3).map((r) => (r.response as { brokers: { port: number }[] }).brokers.map((b) => b.port));
    expect(metadata.length).toBeGreaterThan(0);
    for (const ports of metadata) expect(ports).toEqual([ssl.port]);
    broker.clearRequests();
    await roundtrip('kafkajs', plain.bootstrap, 'adv', ['e'], {});
    for (const r of broker.requests().filter((q) => q.apiKey === 3)) expect((r.response as { brokers: { port: number }[] }).brokers.map((b) => b.port)).toEqual([plain.port]);
  }, 60_000);
});
