// SASL principals in authorization (issue 16): an OAUTHBEARER login is User:<the token's sub> and a
// SCRAM login User:<the SCRAM user>, and each is held to its own ACLs: carol (OAUTHBEARER, a
// PREFIXED ACL on carol-) and dave (SCRAM-SHA-512, a LITERAL ACL on dave-data) each produce and
// consume their own topics with kafkajs (kcat too for carol, librdkafka making its own token) and
// are refused the other's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerHandle } from '../../../src/index.js';
import { unsecuredToken } from '../../../src/client/sasl.js';
import { KTS_BIN } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { roundtrip, type Security } from './clients.js';

describe('OAUTHBEARER and SCRAM principals under ACLs', () => {
  let broker: BrokerHandle;
  let sasl: string;
  const carol: Security = { sasl: { mechanism: 'OAUTHBEARER', principal: 'carol', token: unsecuredToken('carol') } };
  const dave: Security = { sasl: { mechanism: 'SCRAM-SHA-512', username: 'dave', password: 'dave-secret' } };

  // Who sent the Produce requests since the last clear (a previous client's last fetches may still be answered meanwhile).
  const producers = () => new Set(broker.requests().filter((r) => r.apiKey === 0).map((r) => r.principal));

  const kts = async (args: string[]) => {
    const r = await run(process.execPath, [KTS_BIN, ...args, '--bootstrap-server', broker.listeners[1].bootstrap], { timeoutMs: 30_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  };

  beforeAll(async () => {
    broker = await startBroker({
      storage: 'memory',
      logLevel: 'error',
      overrides: {
        listeners: 'SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0',
        'sasl.enabled.mechanisms': 'SCRAM-SHA-512,OAUTHBEARER',
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        // The PLAINTEXT listener is the operator's here.
        'super.users': 'User:ANONYMOUS',
      },
    });
    sasl = broker.listeners[0].bootstrap;
    await kts(['configs', '--alter', '--add-config', 'SCRAM-SHA-512=[password=dave-secret]', '--entity-type', 'users', '--entity-name', 'dave']);
    await kts(['acls', '--add', '--allow-principal', 'User:carol', '--operation', 'All', '--topic', 'carol-', '--group', 'carol-', '--resource-pattern-type', 'prefixed']);
    await kts(['acls', '--add', '--allow-principal', 'User:dave', '--operation', 'All', '--topic', 'dave-data', '--group', 'dave-data-kafkajs']);
  }, 60_000);
  afterAll(() => broker?.close());

  it('carol (OAUTHBEARER) is User:carol: her prefixed topics work with kafkajs and kcat, dave-data is refused', async () => {
    broker.clearRequests();
    expect(await roundtrip('kafkajs', sasl, 'carol-orders', ['c1', 'c2'], carol)).toEqual(['c1', 'c2']);
    expect(await roundtrip('kcat', sasl, 'carol-kcat', ['k1'], carol)).toEqual(['k1']);
    expect(producers()).toEqual(new Set(['User:carol']));
    await expect(roundtrip('kafkajs', sasl, 'dave-data', ['x'], carol)).rejects.toThrow(/authoriz/i);
  }, 60_000);

  it('dave (SCRAM-SHA-512) is User:dave: dave-data works, carol-orders is refused', async () => {
    broker.clearRequests();
    expect(await roundtrip('kafkajs', sasl, 'dave-data', ['d1'], dave)).toEqual(['d1']);
    expect(producers()).toEqual(new Set(['User:dave']));
    await expect(roundtrip('kafkajs', sasl, 'carol-orders', ['x'], dave)).rejects.toThrow(/authoriz/i);
    // Nothing of dave's reached carol's topic (read by the operator over PLAINTEXT).
    const read = await run(process.execPath, [KTS_BIN, 'console-consumer', '--bootstrap-server', broker.listeners[1].bootstrap, '--topic', 'carol-orders', '--from-beginning', '--timeout-ms', '3000']);
    expect(read.stdout).toBe('c1\nc2\n');
  }, 60_000);
});
