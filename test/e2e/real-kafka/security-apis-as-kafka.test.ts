// The security APIs against the real thing: SaslHandshake (17), SaslAuthenticate (36), the ACL APIs
// (29-31) and the SCRAM credential APIs (50, 51). A live Kafka 4.4 (KRaft, StandardAuthorizer,
// User:ANONYMOUS a super user, a SASL_PLAINTEXT listener with PLAIN and SCRAM-SHA-256) and kts with
// the same settings get the same requests in the same order, and every answer is compared field by
// field (error codes and messages included), as is whether the broker closed the connection after
// it. Left out of the comparison: nothing but the order of DescribeAcls' resources and of their
// ACLs, which Kafka takes from hash sets (both are sorted).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { freePort, spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';
import { authenticate } from '../../../src/client/sasl.js';
import { saltedPassword } from '../../../src/broker/security/sasl/scram.js';

const PLAIN_JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";';
const SCRAM_JAAS = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
const settings = {
  'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'super.users': 'User:ANONYMOUS;User:alice;User:bob',
  'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
  'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
  'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config': SCRAM_JAAS,
};

// Kafka's enums, as the requests carry them.
const RESOURCE = { ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5 };
const PATTERN = { ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 };
const OP = { ANY: 1, ALL: 2, READ: 3, WRITE: 4, CREATE: 5, DESCRIBE: 8, CLUSTER_ACTION: 9 };
const PERMISSION = { ANY: 1, DENY: 2, ALLOW: 3 };

interface Broker {
  port: number;
  saslPort: number;
}

/** One step of a scenario: the decoded answer (or 'no answer'), and whether the connection closed. */
interface Step {
  answer: unknown;
  closed: boolean;
}

/** Sends each request on one connection in order; stops at the first that gets no answer. */
async function conversation(port: number, requests: [apiKey: number, version: number, body: object][]): Promise<Step[]> {
  const client = await RawClient.connect(port);
  const steps: Step[] = [];
  try {
    for (const [apiKey, version, body] of requests) {
      let answer: unknown;
      try {
        answer = await client.request(apiKey, version, body);
      } catch {
        answer = 'no answer';
      }
      // A broker closes right after the answer that ends a connection: wait a little for it.
      if (!client.closed) await client.waitClosed(300).catch(() => {});
      steps.push({ answer: comparable(answer), closed: client.closed });
      if (client.closed) break;
    }
    return steps;
  } finally {
    client.close();
  }
}

/**
 * Buffers as hex, throttle times out; sorted: DescribeAcls' resources and ACLs, and
 * DescribeUserScramCredentials' users (Kafka lists both from Java hash maps).
 */
function comparable(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) {
    const items = value.map(comparable);
    const sortable = items.every((i) => i && typeof i === 'object' && ('resourceName' in i || 'principal' in i || 'credentialInfos' in i));
    return sortable ? items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : items;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'throttleTimeMs')
        .map(([k, v]) => [k, comparable(v)]),
    );
  }
  return value;
}

/** A SASL exchange in SaslAuthenticate v2 requests over a RawClient, for src/client/sasl's authenticate. */
async function saslLogin(port: number, credentials: Parameters<typeof authenticate>[0]): Promise<{ ok: boolean; error?: unknown; closed: boolean }> {
  const client = await RawClient.connect(port);
  try {
    const hs = await client.request(17, 1, { mechanism: credentials.mechanism });
    if (hs.errorCode !== 0) return { ok: false, error: comparable(hs), closed: client.closed };
    let failure: unknown;
    try {
      await authenticate(credentials, async (token) => {
        const answer = await client.request(36, 2, { authBytes: token });
        if (answer.errorCode !== 0) {
          failure = comparable(answer);
          throw new Error('refused');
        }
        return answer.authBytes as Buffer;
      });
    } catch {
      if (!client.closed) await client.waitClosed(2000).catch(() => {});
      return { ok: false, error: failure ?? 'no answer', closed: client.closed };
    }
    // Authenticated: the connection serves requests now.
    const metadata = await client.request(3, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    return { ok: metadata.brokers.length === 1, closed: client.closed };
  } finally {
    client.close();
  }
}

const aclCreation = (resourceType: number, resourceName: string, resourcePatternType: number, principal: string, operation: number, permissionType = PERMISSION.ALLOW, host = '*') => ({
  resourceType,
  resourceName,
  resourcePatternType,
  principal,
  host,
  operation,
  permissionType,
});
const aclFilter = (f: Partial<{ resourceTypeFilter: number; resourceNameFilter: string | null; patternTypeFilter: number; principalFilter: string | null; hostFilter: string | null; operation: number; permissionType: number }> = {}) => ({
  resourceTypeFilter: RESOURCE.ANY,
  resourceNameFilter: null,
  patternTypeFilter: PATTERN.ANY,
  principalFilter: null,
  hostFilter: null,
  operation: OP.ANY,
  permissionType: PERMISSION.ANY,
  ...f,
});

/** SCRAM-SHA-256 (type 1) upsertion with a salted password made as Kafka's admin client makes it. */
const upsertion = (name: string, password: string, iterations = 4096, mechanism = 1) => {
  const salt = randomBytes(32);
  const salted = mechanism === 1 || mechanism === 2 ? saltedPassword(mechanism === 1 ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512', password, salt, Math.min(Math.max(iterations, 1), 20000)) : randomBytes(32);
  return { name, mechanism, iterations, salt, saltedPassword: salted };
};

type Scenario = [name: string, run: (b: Broker) => Promise<unknown>];

/** ACL filters with an UNKNOWN (0) or unknown (42) element. */
const INVALID_FILTERS: [string, Parameters<typeof aclFilter>[0]][] = [
  ['resource type UNKNOWN', { resourceTypeFilter: 0 }],
  ['pattern type UNKNOWN', { patternTypeFilter: 0 }],
  ['operation UNKNOWN', { operation: 0 }],
  ['permission type UNKNOWN', { permissionType: 0 }],
  ['resource type 42', { resourceTypeFilter: 42 }],
  ['a LITERAL filter without a name', { resourceTypeFilter: RESOURCE.TOPIC, patternTypeFilter: PATTERN.LITERAL, resourceNameFilter: null }],
];

const scenarios: Scenario[] = [
  // SASL requests on a PLAINTEXT listener.
  ['SaslHandshake v0 and v1 on a PLAINTEXT listener', (b) => conversation(b.port, [[17, 0, { mechanism: 'PLAIN' }], [17, 1, { mechanism: 'PLAIN' }]])],
  ['SaslAuthenticate v0, v1, v2 on a PLAINTEXT listener', (b) => conversation(b.port, [0, 1, 2].map((v) => [36, v, { authBytes: Buffer.from('\0alice\0alice-secret') }]))],
  // The SASL listener's handshake.
  ['SaslHandshake v1 with a disabled mechanism', (b) => conversation(b.saslPort, [[17, 1, { mechanism: 'GSSAPI' }]])],
  ['SaslHandshake v1 with an unknown mechanism', (b) => conversation(b.saslPort, [[17, 1, { mechanism: 'NOPE' }]])],
  ['SaslHandshake v0 with PLAIN', (b) => conversation(b.saslPort, [[17, 0, { mechanism: 'PLAIN' }]])],
  ['SaslHandshake twice', (b) => conversation(b.saslPort, [[17, 1, { mechanism: 'PLAIN' }], [17, 1, { mechanism: 'PLAIN' }]])],
  ['ApiVersions then SaslHandshake', async (b) => ((await conversation(b.saslPort, [[18, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }], [17, 1, { mechanism: 'SCRAM-SHA-256' }]])) as Step[])[1]],
  ['Metadata before the handshake', (b) => conversation(b.saslPort, [[3, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }]])],
  ['SaslAuthenticate before the handshake', (b) => conversation(b.saslPort, [[36, 2, { authBytes: Buffer.from('\0alice\0alice-secret') }]])],
  ['PLAIN with a wrong password', (b) => conversation(b.saslPort, [[17, 1, { mechanism: 'PLAIN' }], [36, 2, { authBytes: Buffer.from('\0alice\0wrong') }]])],
  ['PLAIN with an unknown user', (b) => conversation(b.saslPort, [[17, 1, { mechanism: 'PLAIN' }], [36, 1, { authBytes: Buffer.from('\0mallory\0x') }]])],
  ['PLAIN with a malformed token', (b) => conversation(b.saslPort, [[17, 1, { mechanism: 'PLAIN' }], [36, 2, { authBytes: Buffer.from('alice') }]])],
  ['PLAIN, then SaslAuthenticate and SaslHandshake again', (b) =>
    conversation(b.saslPort, [[17, 1, { mechanism: 'PLAIN' }], [36, 2, { authBytes: Buffer.from('\0alice\0alice-secret') }], [36, 2, { authBytes: Buffer.from('\0alice\0alice-secret') }], [17, 1, { mechanism: 'PLAIN' }]])],
  ['SCRAM-SHA-256 for a user without credentials', (b) => conversation(b.saslPort, [[17, 1, { mechanism: 'SCRAM-SHA-256' }], [36, 2, { authBytes: Buffer.from('n,,n=nobody,r=abcdefghijklmnop') }]])],
  ['SCRAM-SHA-256 with a malformed first message', (b) => conversation(b.saslPort, [[17, 1, { mechanism: 'SCRAM-SHA-256' }], [36, 2, { authBytes: Buffer.from('hello') }]])],
  ['a PLAIN login', (b) => saslLogin(b.saslPort, { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' })],

  // SCRAM credentials.
  ['DescribeUserScramCredentials of everyone, none yet', (b) => conversation(b.port, [[50, 0, { users: null }], [50, 0, { users: [] }]])],
  ['DescribeUserScramCredentials of an unknown user, and of one named twice', (b) => conversation(b.port, [[50, 0, { users: [{ name: 'nobody' }, { name: 'twice' }, { name: 'twice' }] }]])],
  ['AlterUserScramCredentials: bob, and the refused ones', (b) =>
    conversation(b.port, [
      [51, 0, { deletions: [], upsertions: [upsertion('bob', 'bob-secret', 4096)] }],
      [51, 0, { deletions: [], upsertions: [upsertion('few', 'x', 100)] }],
      [51, 0, { deletions: [], upsertions: [upsertion('many', 'x', 20000)] }],
      [51, 0, { deletions: [], upsertions: [upsertion('', 'x')] }],
      [51, 0, { deletions: [], upsertions: [upsertion('unknown-mechanism', 'x', 4096, 0)] }],
      [51, 0, { deletions: [], upsertions: [upsertion('dup', 'x'), upsertion('dup', 'y')] }],
      [51, 0, { deletions: [{ name: 'ghost', mechanism: 1 }], upsertions: [] }],
      [51, 0, { deletions: [{ name: 'carol', mechanism: 2 }], upsertions: [upsertion('carol', 'c', 8192)] }],
      [51, 0, { deletions: [], upsertions: [upsertion('dave', 'd'), upsertion('erin', 'e', 8192, 2)] }],
    ])],
  ['DescribeUserScramCredentials after the changes', (b) => conversation(b.port, [[50, 0, { users: null }], [50, 0, { users: [{ name: 'dave' }, { name: 'bob' }] }]])],
  ['a SCRAM-SHA-256 login with the stored credential, and with a wrong password', async (b) => [
    await saslLogin(b.saslPort, { mechanism: 'SCRAM-SHA-256', username: 'bob', password: 'bob-secret' }),
    await saslLogin(b.saslPort, { mechanism: 'SCRAM-SHA-256', username: 'bob', password: 'wrong' }),
  ]],
  ['AlterUserScramCredentials deletes dave; a mechanism the user lacks is not found', (b) =>
    conversation(b.port, [
      [51, 0, { deletions: [{ name: 'dave', mechanism: 1 }], upsertions: [] }],
      [51, 0, { deletions: [{ name: 'erin', mechanism: 1 }], upsertions: [] }],
      [50, 0, { users: null }],
    ])],

  // ACLs.
  ['DescribeAcls with no ACLs', (b) => conversation(b.port, [[29, 3, aclFilter()]])],
  ['CreateAcls: the accepted ones', (b) =>
    conversation(b.port, [
      [
        30,
        3,
        {
          creations: [
            aclCreation(RESOURCE.TOPIC, 'a', PATTERN.LITERAL, 'User:alice', OP.READ),
            aclCreation(RESOURCE.TOPIC, 'a', PATTERN.LITERAL, 'User:alice', OP.READ),
            aclCreation(RESOURCE.TOPIC, 'pre', PATTERN.PREFIXED, 'User:bob', OP.WRITE, PERMISSION.DENY, '10.0.0.1'),
            aclCreation(RESOURCE.GROUP, 'g', PATTERN.LITERAL, 'User:alice', OP.READ),
            aclCreation(RESOURCE.CLUSTER, 'kafka-cluster', PATTERN.LITERAL, 'User:carol', OP.CREATE),
            aclCreation(RESOURCE.TRANSACTIONAL_ID, 'tx', PATTERN.LITERAL, 'User:dave', OP.ALL),
            aclCreation(RESOURCE.TOPIC, '*', PATTERN.LITERAL, 'User:*', OP.DESCRIBE),
          ],
        },
      ],
    ])],
  ...[
    aclCreation(RESOURCE.ANY, 'a', PATTERN.LITERAL, 'User:alice', OP.READ),
    aclCreation(RESOURCE.TOPIC, 'a', PATTERN.MATCH, 'User:alice', OP.READ),
    aclCreation(RESOURCE.TOPIC, 'a', PATTERN.ANY, 'User:alice', OP.READ),
    aclCreation(RESOURCE.TOPIC, 'a', PATTERN.LITERAL, 'User:alice', OP.ANY),
    aclCreation(RESOURCE.TOPIC, 'a', PATTERN.LITERAL, 'User:alice', OP.READ, PERMISSION.ANY),
    aclCreation(RESOURCE.TOPIC, 'a', PATTERN.LITERAL, 'alice', OP.READ),
    aclCreation(RESOURCE.CLUSTER, 'other', PATTERN.LITERAL, 'User:carol', OP.CREATE),
    aclCreation(RESOURCE.TOPIC, '', PATTERN.LITERAL, 'User:alice', OP.READ),
    aclCreation(RESOURCE.TOPIC, 'a', PATTERN.LITERAL, 'User:alice', OP.CLUSTER_ACTION),
  ].map((c, i): Scenario => [`CreateAcls refuses one (${i})`, (b) => conversation(b.port, [[30, 3, { creations: [c] }]])]),
  ...[
    aclCreation(42, 'a', PATTERN.LITERAL, 'User:alice', OP.READ),
    aclCreation(RESOURCE.TOPIC, 'a', 42, 'User:alice', OP.READ),
    aclCreation(RESOURCE.TOPIC, 'a', PATTERN.LITERAL, 'User:alice', 42),
    aclCreation(RESOURCE.TOPIC, 'a', PATTERN.LITERAL, 'User:alice', OP.READ, 42),
  ].map((c, i): Scenario => [`CreateAcls with an unknown enum value (${i})`, (b) => conversation(b.port, [[30, 3, { creations: [c] }]])]),
  ['DescribeAcls by filter', (b) =>
    conversation(b.port, [
      [29, 3, aclFilter()],
      [29, 3, aclFilter({ resourceTypeFilter: RESOURCE.TOPIC, resourceNameFilter: 'a', patternTypeFilter: PATTERN.LITERAL })],
      [29, 3, aclFilter({ resourceTypeFilter: RESOURCE.TOPIC, resourceNameFilter: 'pre-x', patternTypeFilter: PATTERN.MATCH })],
      [29, 3, aclFilter({ principalFilter: 'User:alice' })],
      [29, 3, aclFilter({ hostFilter: '10.0.0.1', permissionType: PERMISSION.DENY })],
      [29, 3, aclFilter({ operation: OP.READ })],
      [29, 3, aclFilter({ resourceTypeFilter: RESOURCE.CLUSTER })],
      [29, 3, aclFilter({ resourceTypeFilter: RESOURCE.TOPIC, resourceNameFilter: 'none', patternTypeFilter: PATTERN.LITERAL })],
      [29, 1, aclFilter({ resourceTypeFilter: RESOURCE.GROUP })],
    ])],
  ...INVALID_FILTERS.map(([what, filter]): Scenario => [`DescribeAcls with ${what}`, (b) => conversation(b.port, [[29, 3, aclFilter(filter)]])]),
  ...INVALID_FILTERS.map(([what, filter]): Scenario => [`DeleteAcls with ${what}`, (b) => conversation(b.port, [[31, 3, { filters: [aclFilter({ resourceTypeFilter: RESOURCE.GROUP, resourceNameFilter: 'g' }), aclFilter(filter)] }]])]),
  ['DeleteAcls by filters, matching and not', (b) =>
    conversation(b.port, [
      [
        31,
        3,
        {
          filters: [
            aclFilter({ resourceTypeFilter: RESOURCE.TOPIC, resourceNameFilter: 'a', patternTypeFilter: PATTERN.LITERAL, principalFilter: 'User:alice' }),
            aclFilter({ resourceTypeFilter: RESOURCE.GROUP, resourceNameFilter: 'nothing' }),
            aclFilter({ resourceTypeFilter: RESOURCE.TOPIC, resourceNameFilter: 'pre-y', patternTypeFilter: PATTERN.MATCH }),
          ],
        },
      ],
      [29, 3, aclFilter()],
      [31, 3, { filters: [aclFilter()] }],
      [29, 3, aclFilter()],
    ])],
];

describe.skipIf(!kafkaLib(KAFKA_4))('the SASL, ACL and SCRAM APIs answer as Kafka 4.4', () => {
  let kafka: RealKafka;
  let kts: SpawnedBroker;
  let real: Broker;
  let ours: Broker;
  beforeAll(async () => {
    const [kafkaSasl, ktsSasl, ktsPort] = [await freePort(), await freePort(), await freePort()];
    [kafka, kts] = await Promise.all([
      startRealKafka(KAFKA_4, { props: settings, extraListeners: [{ name: 'SASL_PLAINTEXT', port: kafkaSasl }] }),
      spawnBroker({ port: ktsPort, overrides: { ...settings, listeners: `PLAINTEXT://127.0.0.1:${ktsPort},SASL_PLAINTEXT://127.0.0.1:${ktsSasl}` } }),
    ]);
    real = { port: kafka.port, saslPort: kafkaSasl };
    ours = { port: kts.port, saslPort: ktsSasl };
  }, 180_000);
  afterAll(async () => {
    await Promise.all([kafka?.stop(), kts?.stop()]);
  });

  it('the same answers, request by request', async () => {
    const differences: string[] = [];
    for (const [name, run] of scenarios) {
      const [k, t] = await Promise.all([run(real), run(ours)]);
      const [ks, ts] = [JSON.stringify(k), JSON.stringify(t)];
      if (ks !== ts) differences.push(`${name}:\n  kafka: ${ks}\n  kts:   ${ts}`);
    }
    expect(differences.join('\n')).toBe('');
  }, 300_000);
});
