// startCluster with secured listeners (issue 16): two in-memory brokers whose only listener is
// SASL_SSL (PEM certificates from `kts certs`, SASL/PLAIN users from the JAAS entry), replicating
// to each other over it (inter.broker.listener.name). kafkajs produces and consumes an RF=2 topic
// through bootstrapFor('SASL_SSL'), a wrong password is refused, and a restarted broker is back on
// its own SASL_SSL port.
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type ClusterHandle } from '../../src/index.js';
import { roundtrip } from '../e2e/security/clients.js';
import { makeCerts, type Certs } from '../e2e/security/support.js';
import { until } from './support.js';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="broker-secret" user_broker="broker-secret" user_alice="alice-secret";';

describe('startCluster with a SASL_SSL listener', () => {
  let certs: Certs;
  let cluster: ClusterHandle;
  beforeAll(async () => {
    certs = makeCerts();
    cluster = await startCluster({
      brokers: 2,
      listeners: 'SASL_SSL://127.0.0.1:0',
      overrides: {
        'inter.broker.listener.name': 'SASL_SSL',
        'sasl.mechanism.inter.broker.protocol': 'PLAIN',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_ssl.plain.sasl.jaas.config': JAAS,
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': certs.broker,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': certs.ca,
      },
    });
  }, 60_000);
  afterAll(() => cluster?.close());

  it('kafkajs produces and consumes an RF=2 topic over SASL_SSL; a restarted broker keeps its port', async () => {
    const bootstrap = cluster.bootstrapFor('sasl_ssl');
    expect(bootstrap).toBe(cluster.bootstrap);
    expect(cluster.brokers.map((b) => b.listeners.map((l) => l.securityProtocol))).toEqual([['SASL_SSL'], ['SASL_SSL']]);
    const alice = { tls: { ca: certs.ca }, sasl: { mechanism: 'PLAIN' as const, username: 'alice', password: 'alice-secret' } };
    expect(await roundtrip('kafkajs', bootstrap, 'secured', ['one', 'two'], alice)).toEqual(['one', 'two']);
    await expect(roundtrip('kafkajs', bootstrap, 'secured', ['intruder'], { ...alice, sasl: { ...alice.sasl, password: 'wrong' } })).rejects.toThrow();

    // Both replicas in sync: the follower fetched over SASL_SSL as User:broker.
    const kafka = new Kafka({ brokers: bootstrap.split(','), ssl: { ca: [readFileSync(certs.ca, 'utf8')] }, sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' }, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await until('secured-0 in sync on both brokers', async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: ['secured'] });
        return topics[0].partitions[0].replicas.length === 2 && topics[0].partitions[0].isr.length === 2;
      });
    } finally {
      await admin.disconnect();
    }

    const before = cluster.broker(1).listeners[0].port;
    await cluster.stopBroker(1);
    const back = await cluster.restartBroker(1);
    expect(back.listeners[0]).toMatchObject({ name: 'SASL_SSL', port: before });
    expect(await roundtrip('kafkajs', cluster.bootstrapFor('SASL_SSL'), 'secured-after', ['three'], alice)).toEqual(['three']);
  }, 90_000);
});
