// ssl.principal.mapping.rules (issue 16): kts's mapper against Kafka 4.4's own SslPrincipalMapper
// (PrincipalMapperOracle.java, run from Kafka's jars) over the rules of Kafka's documentation and
// the corners of its grammar; then on a broker: a certificate mapped to User:alice is authorized by
// an ACL for User:alice, and a certificate no rule maps is refused before any request is served.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerHandle } from '../../../src/index.js';
import { InvalidMappingRule, SslPrincipalMapper } from '../../../src/broker/security/ssl-principal-mapper.js';
import { KTS_BIN } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { KAFKA_4, kafkaLib } from '../../helpers/real-kafka.js';
import { roundtrip } from './clients.js';
import { makeCerts, tlsOverrides, type Certs } from './support.js';

const SUBJECTS = [
  'CN=kafka1,OU=ServiceUsers,O=Org,C=US',
  'CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Cupertino,ST=CA,C=US',
  'OU=x,CN=Some.One,O=z',
  'O=NoCommonName',
  'CN=alice,OU=client,O=kts',
  'CN=a/b,O=x',
  'CN=a',
  'CN=Jöran,OU=client',
];

const CASES: string[] = [
  // Kafka's documentation example.
  'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,DEFAULT',
  'RULE:^CN=(.*?),OU=(.*?)$/$1/U',
  'DEFAULT',
  '',
  ' RULE:^CN=(.*?),.*$/$1/L , DEFAULT ',
  // Java's replaceAll also replaces the empty match at the end.
  'RULE:.*/x/',
  // $5 and $12 with one group: literal, and group 1 followed by "2"; \$1 is a literal $1.
  'RULE:^CN=([^,]*),.*$/$1 $5 $12 \\$1/',
  'RULE:^CN=(.*)\\/(.*),O=x$/$2-$1/',
  'RULE:^CN=(a)$/[$0]/',
  'RULE:^CN=(.*?)(,OU=(.*))?$/$1:$3/',
  // Rules that do not parse.
  'RULE:x/y/Lz',
  'RULE:x',
  'FOO,DEFAULT',
];

type Answer = (string | { noMatch: true })[] | { invalid: string };

function kts(rules: string): Answer {
  let mapper: SslPrincipalMapper;
  try {
    mapper = SslPrincipalMapper.fromRules(rules);
  } catch (err) {
    if (err instanceof InvalidMappingRule) return { invalid: err.message };
    throw err;
  }
  return SUBJECTS.map((s) => mapper.map(s) ?? { noMatch: true as const });
}

describe('ssl.principal.mapping.rules as Kafka 4.4 reads them', () => {
  it('maps every subject as Kafka 4.4 SslPrincipalMapper does, and refuses the rules it refuses', () => {
    const lib = kafkaLib(KAFKA_4);
    if (!lib) return; // kafkaLib throws under KTS_REQUIRE_INTEROP (CI); locally without the jars there is no oracle
    const oracle = resolve(import.meta.dirname, 'PrincipalMapperOracle.java');
    const out = execFileSync('java', ['-Xshare:auto', '-XX:TieredStopAtLevel=1', '-cp', `${lib}/*`, oracle, JSON.stringify(CASES.map((rules) => ({ rules, subjects: SUBJECTS })))], { encoding: 'utf8', timeout: 60_000 });
    const kafka = JSON.parse(out.trim().split('\n').pop()!) as Answer[];
    expect(kafka).toHaveLength(CASES.length);
    CASES.forEach((rules, i) => expect(kts(rules), `rules ${JSON.stringify(rules)}`).toEqual(kafka[i]));
    // The oracle's answers include the cases worth having (a guard against an oracle that says nothing).
    expect(kafka[0]).toEqual(['kafka1', 'duke@javasoft', 'some.one', 'O=NoCommonName', 'alice', 'a', 'a', 'j']);
    expect(kafka[10]).toEqual({ invalid: 'Invalid rule: `RULE:x/y/Lz`, unmatched substring: `z`' });
  }, 90_000);
});

describe('a broker with ssl.principal.mapping.rules', () => {
  let certs: Certs;
  let broker: BrokerHandle;
  beforeAll(async () => {
    certs = makeCerts(['alice']);
    broker = await startBroker({
      storage: 'memory',
      logLevel: 'error',
      overrides: {
        listeners: 'SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0',
        ...tlsOverrides(certs, 'required'),
        // Client certificates (OU=client) map to their CN; nothing else maps (no DEFAULT).
        'ssl.principal.mapping.rules': 'RULE:^CN=(.*?),OU=client,O=kts$/$1/L',
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        // The PLAINTEXT listener is the operator's here.
        'super.users': 'User:ANONYMOUS',
      },
    });
  }, 60_000);
  afterAll(() => broker?.close());

  it('alice\'s certificate is User:alice: an ACL for User:alice lets her produce and consume', async () => {
    const plain = broker.listeners[1].bootstrap;
    const acl = await run(process.execPath, [KTS_BIN, 'acls', '--bootstrap-server', plain, '--add', '--allow-principal', 'User:alice', '--operation', 'All', '--topic', 'mapped', '--group', 'mapped-kafkajs']);
    expect(acl.code, acl.stderr).toBe(0);
    broker.clearRequests();
    const tls = { ca: certs.ca, cert: certs.client('alice'), key: certs.client('alice') };
    expect(await roundtrip('kafkajs', broker.listeners[0].bootstrap, 'mapped', ['m1', 'm2'], { tls })).toEqual(['m1', 'm2']);
    expect(new Set(broker.requests().map((r) => r.principal))).toEqual(new Set(['User:alice']));
  }, 60_000);

  it('a certificate no rule maps (the broker\'s own, OU=broker) is refused before any request is served', async () => {
    broker.clearRequests();
    const tls = { ca: certs.ca, cert: certs.broker, key: certs.broker };
    await expect(roundtrip('kafkajs', broker.listeners[0].bootstrap, 'mapped', ['intruder'], { tls })).rejects.toThrow();
    expect(broker.requests()).toEqual([]);
  }, 60_000);

  it('rules that do not parse stop the start with Kafka\'s reason', async () => {
    await expect(
      startBroker({ storage: 'memory', logLevel: 'error', overrides: { listeners: 'SSL://127.0.0.1:0', ...tlsOverrides(certs, 'required'), 'ssl.principal.mapping.rules': 'RULE:x/y/Lz' } }),
    ).rejects.toThrow('Invalid value RULE:x/y/Lz for configuration ssl.principal.mapping.rules (listener SSL): Invalid rule: `RULE:x/y/Lz`, unmatched substring: `z`');
  });
});
