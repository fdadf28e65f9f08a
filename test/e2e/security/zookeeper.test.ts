// ZooKeeper mode: SCRAM credentials live in Kafka's /config/users/<user> znode (salt, keys and
// iterations, never the password) with a /config/changes notification, so they outlive the broker;
// the broker registers every listener's endpoint with its security protocol. (Brokers reaching each
// other over TLS/SASL: inter-broker.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZooKeeperClient } from '../../../src/cluster/zookeeper-client.js';
import { freePort, KTS_BIN, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { spawnCoordinator, type SpawnedCoordinator } from '../../helpers/zookeeper.js';
import { roundtrip } from './clients.js';

describe('SCRAM credentials in ZooKeeper', () => {
  let coordinator: SpawnedCoordinator;
  let broker: SpawnedBroker;
  let zk: ZooKeeperClient;
  let plainPort: number;
  let saslPort: number;
  const dataDir = tempDir('kts-zk-sasl-');

  const start = () =>
    spawnBroker({
      port: plainPort,
      dataDir,
      overrides: {
        listeners: `PLAINTEXT://127.0.0.1:${plainPort},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
        'zookeeper.connect': `127.0.0.1:${coordinator.port}/kafka`,
        'zookeeper.session.timeout.ms': '6000',
        'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      },
    });

  beforeAll(async () => {
    coordinator = await spawnCoordinator({ props: { tickTime: 500 } });
    [plainPort, saslPort] = [await freePort(), await freePort()];
    broker = await start();
    zk = await ZooKeeperClient.connect(`127.0.0.1:${coordinator.port}/kafka`, { sessionTimeoutMs: 10_000 });
  }, 60_000);
  afterAll(async () => {
    await zk?.close();
    await broker?.stop();
    await coordinator?.stop();
  });

  it('registers both listeners; kts configs writes /config/users/<user> in Kafka\'s format; SCRAM works and survives a restart', async () => {
    const registration = JSON.parse((await zk.getData('/brokers/ids/0')).data!.toString());
    expect(registration.endpoints).toEqual([`PLAINTEXT://127.0.0.1:${plainPort}`, `SASL_PLAINTEXT://127.0.0.1:${saslPort}`]);
    expect(registration.listener_security_protocol_map).toEqual({ PLAINTEXT: 'PLAINTEXT', SASL_PLAINTEXT: 'SASL_PLAINTEXT' });

    const altered = await run(process.execPath, [KTS_BIN, 'configs', '--bootstrap-server', broker.bootstrap, '--alter', '--add-config', 'SCRAM-SHA-512=[iterations=5000,password=erin-secret]', '--entity-type', 'users', '--entity-name', 'erin']);
    expect(altered.code, altered.stderr).toBe(0);
    const node = JSON.parse((await zk.getData('/config/users/erin')).data!.toString());
    expect(node.version).toBe(1);
    expect(Object.keys(node.config)).toEqual(['SCRAM-SHA-512']);
    expect(node.config['SCRAM-SHA-512']).toMatch(/^salt=[A-Za-z0-9+/=]+,stored_key=[A-Za-z0-9+/=]+,server_key=[A-Za-z0-9+/=]+,iterations=5000$/);
    expect(JSON.stringify(node)).not.toContain('erin-secret');
    const changes = await zk.getChildren('/config/changes');
    const notes = await Promise.all(changes.map(async (c) => JSON.parse((await zk.getData(`/config/changes/${c}`)).data!.toString())));
    expect(notes).toContainEqual({ version: 2, entity_path: 'users/erin' });

    const erin = { sasl: { mechanism: 'SCRAM-SHA-512' as const, username: 'erin', password: 'erin-secret' } };
    expect(await roundtrip('kcat', `127.0.0.1:${saslPort}`, 'zk-scram', ['a'], erin)).toEqual(['a']);
    await broker.stop();
    broker = await start();
    expect(await roundtrip('kafkajs', `127.0.0.1:${saslPort}`, 'zk-scram-2', ['b'], erin)).toEqual(['b']);
    await expect(roundtrip('kafkajs', `127.0.0.1:${saslPort}`, 'zk-scram-2', ['c'], { sasl: { ...erin.sasl, password: 'nope' } })).rejects.toThrow();
  }, 120_000);

  it('a ZooKeeper broker whose inter-broker listener is SASL needs sasl.mechanism.inter.broker.protocol (Kafka\'s default GSSAPI is not served): refused at start', async () => {
    const port = await freePort();
    await expect(
      spawnBroker({
        port,
        overrides: { listeners: `SASL_PLAINTEXT://127.0.0.1:${port}`, 'broker.id': '7', 'zookeeper.connect': `127.0.0.1:${coordinator.port}/kafka`, 'sasl.enabled.mechanisms': 'SCRAM-SHA-512' },
      }),
    ).rejects.toThrow(/inter-broker listener SASL_PLAINTEXT \(SASL_PLAINTEXT\): sasl.mechanism.inter.broker.protocol=GSSAPI \(Kafka's default\) is not served by kts/);
  }, 60_000);
});
