// `kts profile` (issue 17, profiles) against real kts brokers: broker A speaks PLAINTEXT, broker B
// SASL_PLAINTEXT with PLAIN (and PLAINTEXT, used only to check from outside what B holds). Profiles
// are stored in a temp $KTS_CONFIG_DIR; every tool run below is given no --bootstrap-server unless
// the test is about precedence, so the cluster it reaches and the credentials it uses can only have
// come from the profile.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { stopProcess } from '../../helpers/processes.js';
import { kts as run, startKts } from './support.js';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';
const clientJaas = (password: string) => `org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="${password}";`;

describe('kts profile: named connection profiles used by every tool', () => {
  let a: SpawnedBroker;
  let b: SpawnedBroker;
  let bSasl: string;
  const dir = tempDir('kts-profiles-');
  /** Each test keeps its profiles in its own directory. */
  let env = { KTS_CONFIG_DIR: '' };
  beforeEach((t) => {
    env = { KTS_CONFIG_DIR: join(dir, t.task.id) };
  });
  const kts = (args: string[], extraEnv: Record<string, string> = {}, input = '') => run(args, { env: { ...env, ...extraEnv }, input });
  const topicsOf = async (bootstrap: string) => (await kts(['topics', '--bootstrap-server', bootstrap, '--list'])).stdout.split('\n').filter(Boolean);

  beforeAll(async () => {
    const [plainPort, saslPort] = [await freePort(), await freePort()];
    bSasl = `127.0.0.1:${saslPort}`;
    [a, b] = await Promise.all([
      spawnBroker(),
      spawnBroker({
        port: plainPort,
        overrides: {
          listeners: `PLAINTEXT://127.0.0.1:${plainPort},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
          'sasl.enabled.mechanisms': 'PLAIN',
          'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
        },
      }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('add, use, list and remove; the tools follow the profile in use, its security settings included', async () => {
    expect(await kts(['profile', 'list'])).toMatchObject({ code: 0, stdout: '' });
    expect(await kts(['profile', 'add', 'local', '--bootstrap-server', a.bootstrap, '--use'])).toMatchObject({
      code: 0,
      stdout: `Created profile local (${a.bootstrap}). The tools now use it when given no --bootstrap-server.\n`,
    });
    expect(await kts(['topics', '--create', '--topic', 'on-a', '--partitions', '2'])).toMatchObject({ code: 0, stdout: 'Created topic on-a.\n' });
    expect(await topicsOf(a.bootstrap)).toContain('on-a');
    expect(await topicsOf(b.bootstrap)).not.toContain('on-a');

    const sasl = ['--property', 'security.protocol=SASL_PLAINTEXT', '--property', 'sasl.mechanism=PLAIN', '--property', `sasl.jaas.config=${clientJaas('alice-secret')}`];
    expect(await kts(['profile', 'add', 'secure', '--bootstrap-server', bSasl, ...sasl])).toMatchObject({
      code: 0,
      stdout: `Created profile secure (${bSasl}). Run 'kts profile use secure' to make the tools use it.\n`,
    });
    expect(await kts(['profile', 'use', 'secure'])).toMatchObject({ code: 0, stdout: `Using profile secure (${bSasl}) when no --bootstrap-server is given.\n` });
    // Every kind of tool: admin, producer, consumer (with a group), groups, offsets, cluster.
    expect((await kts(['topics', '--create', '--topic', 'on-b'])).code).toBe(0);
    expect(await topicsOf(b.bootstrap)).toContain('on-b');
    expect((await kts(['console-producer', '--topic', 'on-b'], {}, 'one\ntwo\n')).code).toBe(0);
    const consumed = await kts(['console-consumer', '--topic', 'on-b', '--from-beginning', '--max-messages', '2', '--group', 'g-b']);
    expect(consumed).toMatchObject({ code: 0, stdout: 'one\ntwo\n' });
    expect((await kts(['consumer-groups', '--list'])).stdout).toBe('g-b\n');
    expect((await kts(['get-offsets', '--topic', 'on-b'])).stdout).toBe('on-b:0:2\n');
    const cluster = JSON.parse((await kts(['cluster', '--output', 'json'])).stdout);
    expect(cluster.brokers).toEqual([expect.objectContaining({ port: Number(bSasl.split(':')[1]) })]);

    const listed = await kts(['profile', 'list']);
    expect(listed.stdout).toBe(
      [
        `   NAME    BOOTSTRAP SERVERS${' '.repeat(Math.max(0, bSasl.length - 17))}  SECURITY              COMMAND CONFIG`,
        `   local   ${a.bootstrap.padEnd(Math.max(17, bSasl.length))}  PLAINTEXT             -`,
        `*  secure  ${bSasl.padEnd(Math.max(17, bSasl.length))}  SASL_PLAINTEXT PLAIN  -`,
        '',
      ].join('\n'),
    );
    const doc = JSON.parse((await kts(['profile', 'list', '--output', 'json'])).stdout);
    expect(doc).toEqual({
      current: 'secure',
      profiles: [
        { name: 'local', current: false, bootstrapServers: a.bootstrap, commandConfig: null, properties: {} },
        { name: 'secure', current: true, bootstrapServers: bSasl, commandConfig: null, properties: { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': '[hidden]' } },
      ],
    });
    // It holds a password: readable by its owner only.
    expect(statSync(join(env.KTS_CONFIG_DIR, 'profiles.json')).mode & 0o777).toBe(0o600);

    expect(await kts(['profile', 'remove', 'secure'])).toMatchObject({ code: 0, stdout: 'Removed profile secure. No profile is in use now.\n' });
    const after = await kts(['topics', '--list'], { KTS_CONNECT_TIMEOUT_MS: '3000' });
    // No profile in use: back to localhost:9092 (nothing listens there in the test's environment, or something else does).
    expect(after.stdout).not.toContain('on-b');
    expect(await kts(['profile', 'use', 'secure'])).toMatchObject({ code: 1, stderr: "No profile named 'secure' (profiles: local).\n" });
  }, 180_000);

  it('precedence: --bootstrap-server, then $KTS_PROFILE, then $KTS_BOOTSTRAP_SERVER, then the profile in use; a tool\'s --command-config wins over the profile\'s', async () => {
    const file = join(dir, 'client.properties');
    writeFileSync(file, `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=${clientJaas('alice-secret')}\n`);
    const wrong = join(dir, 'wrong.properties');
    writeFileSync(wrong, `sasl.jaas.config=${clientJaas('not-the-password')}\n`);
    expect((await kts(['profile', 'add', 'b-file', '--bootstrap-server', bSasl, '--command-config', file])).code).toBe(0);
    expect((await kts(['profile', 'add', 'a', '--bootstrap-server', a.bootstrap, '--use'])).code).toBe(0);
    expect((await kts(['topics', '--create', '--topic', 'only-on-b', '--bootstrap-server', b.bootstrap])).code).toBe(0);

    const lists = async (extraEnv: Record<string, string>, args: string[] = []) => {
      const r = await kts(['topics', '--list', ...args], extraEnv);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      return r.stdout.includes('only-on-b\n') ? 'b' : 'a';
    };
    expect(await lists({})).toBe('a');
    expect(await lists({ KTS_PROFILE: 'b-file' })).toBe('b');
    expect(await lists({ KTS_BOOTSTRAP_SERVER: b.bootstrap })).toBe('b');
    expect(await lists({ KTS_BOOTSTRAP_SERVER: a.bootstrap, KTS_PROFILE: 'b-file' })).toBe('b');
    expect(await lists({ KTS_PROFILE: 'b-file' }, ['--bootstrap-server', a.bootstrap])).toBe('a');

    // The profile's settings come from its command-config file; the tool's own file overrides its password.
    const refused = await kts(['topics', '--list', '--command-config', wrong], { KTS_PROFILE: 'b-file' });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^Error while executing topic command : .*(Authentication failed|Invalid username or password).*\(the address of profile 'b-file': kts profile list\)\n$/);

    expect(await kts(['topics', '--list'], { KTS_PROFILE: 'nope' })).toMatchObject({
      code: 1,
      stdout: "Error while executing topic command : $KTS_PROFILE names the profile 'nope', which does not exist (profiles: a, b-file)\n",
    });
  }, 180_000);

  it('refuses bad input with one line: a missing file, a bad address, a bad protocol, a taken name, an unknown command', async () => {
    const cases: [string[], string][] = [
      [['profile', 'add', 'x', '--bootstrap-server', a.bootstrap, '--command-config', join(dir, 'missing.properties')], `${join(dir, 'missing.properties')} (No such file or directory)\n`],
      [['profile', 'add', 'x', '--bootstrap-server', 'no-port'], 'Please provide valid host:port like host1:9091,host2:9092\nRun \'kts profile --help\' for the list of options.\n'],
      [['profile', 'add', 'x', '--bootstrap-server', a.bootstrap, '--property', 'security.protocol=TLS'], 'Invalid value TLS for configuration security.protocol: String must be one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL\n'],
      [['profile', 'add', 'bad/name', '--bootstrap-server', a.bootstrap], "Invalid profile name 'bad/name': letters, digits, '.', '_' and '-' only (at most 64, starting with a letter or digit)\n"],
      [['profile', 'lst'], "'lst' is not a kts profile command (add, list, use, remove).\nDid you mean 'list'?\nRun 'kts profile --help' for the list of options.\n"],
      [['profile', 'use'], "kts profile use takes one profile name\nRun 'kts profile --help' for the list of options.\n"],
      [['profile', 'list', '--bootstrap-server', a.bootstrap], "Option --bootstrap-server is not valid with 'kts profile list'\nRun 'kts profile --help' for the list of options.\n"],
    ];
    for (const [args, stderr] of cases) expect(await kts(args), args.join(' ')).toMatchObject({ code: 1, stdout: '', stderr });
    mkdirSync(env.KTS_CONFIG_DIR, { recursive: true });
    writeFileSync(join(env.KTS_CONFIG_DIR, 'profiles.json'), '{"profiles": 3}');
    expect(await kts(['topics', '--list'])).toMatchObject({
      code: 1,
      stdout: `Error while executing topic command : The profiles file ${join(env.KTS_CONFIG_DIR, 'profiles.json')} does not hold kts profiles ({"current", "profiles": {name: {"bootstrapServers", ...}}}); fix or remove it\n`,
    });
  }, 180_000);

  it('kts migrate: the source from $KTS_PROFILE or --from-profile, the target from --to-profile, each with its own settings', async () => {
    const sasl = ['--property', 'security.protocol=SASL_PLAINTEXT', '--property', 'sasl.mechanism=PLAIN', '--property', `sasl.jaas.config=${clientJaas('alice-secret')}`];
    expect((await kts(['profile', 'add', 'plain', '--bootstrap-server', a.bootstrap])).code).toBe(0);
    expect((await kts(['profile', 'add', 'secure', '--bootstrap-server', bSasl, ...sasl])).code).toBe(0);
    expect((await kts(['topics', '--create', '--topic', 'moved-1', '--bootstrap-server', a.bootstrap])).code).toBe(0);
    expect((await kts(['console-producer', '--topic', 'moved-1', '--bootstrap-server', a.bootstrap], {}, 'r1\nr2\nr3\n')).code).toBe(0);
    const records = async (topic: string) => (await kts(['console-consumer', '--topic', topic, '--from-beginning', '--max-messages', '3', '--bootstrap-server', b.bootstrap])).stdout;

    // B's SASL listener lets in only the credentials the profile holds: no profile, no migration.
    const refused = await kts(['migrate', '--to', bSasl, '--topics', 'moved-1'], { KTS_PROFILE: 'plain', KTS_CONNECT_TIMEOUT_MS: '3000' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^Error: The target cluster: /);
    const viaEnv = await kts(['migrate', '--to-profile', 'secure', '--topics', 'moved-1', '--output', 'json'], { KTS_PROFILE: 'plain' });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ dryRun: false, records: 3 });
    expect(await records('moved-1')).toBe('r1\nr2\nr3\n');

    // --from-profile wins over $KTS_PROFILE (the way --bootstrap-server does for the other tools).
    expect((await kts(['topics', '--create', '--topic', 'moved-2', '--bootstrap-server', a.bootstrap])).code).toBe(0);
    expect((await kts(['console-producer', '--topic', 'moved-2', '--bootstrap-server', a.bootstrap], {}, 's1\ns2\ns3\n')).code).toBe(0);
    const viaOption = await kts(['migrate', '--from-profile', 'plain', '--to-profile', 'secure', '--topics', 'moved-2', '--output', 'json'], { KTS_PROFILE: 'secure' });
    expect(viaOption.code, viaOption.stderr).toBe(0);
    expect(JSON.parse(viaOption.stdout)).toMatchObject({ records: 3 });
    expect(await records('moved-2')).toBe('s1\ns2\ns3\n');

    const bad: [string[], Record<string, string>, string][] = [
      [['migrate', '--from', a.bootstrap], {}, 'Missing required argument "[to]"\nName the target with --to host:port or --to-profile <profile>.\nRun \'kts migrate --help\' for the list of options.\n'],
      [['migrate', '--to', bSasl, '--to-profile', 'secure'], {}, 'Option "[to]" can\'t be used with option "[to-profile]"\nRun \'kts migrate --help\' for the list of options.\n'],
      [['migrate', '--from-profile', 'nope', '--to-profile', 'secure'], {}, "Error: --from-profile names the profile 'nope', which does not exist (profiles: plain, secure)\n"],
      [['migrate', '--to-profile', 'secure'], { KTS_PROFILE: 'gone' }, "Error: $KTS_PROFILE names the profile 'gone', which does not exist (profiles: plain, secure)\n"],
    ];
    for (const [args, extraEnv, stderr] of bad) expect(await kts(args, extraEnv), args.join(' ')).toMatchObject({ code: 1, stdout: '', stderr });
  }, 180_000);

  it('the web console shows the cluster of the profile in use', async () => {
    expect((await kts(['topics', '--create', '--topic', 'shown', '--bootstrap-server', b.bootstrap])).code).toBe(0);
    expect((await kts(['profile', 'add', 'secure', '--bootstrap-server', bSasl, '--property', 'security.protocol=SASL_PLAINTEXT', '--property', 'sasl.mechanism=PLAIN', '--property', `sasl.jaas.config=${clientJaas('alice-secret')}`, '--use'])).code).toBe(0);
    const port = await freePort();
    const server = startKts(['console', '--port', String(port)], { env });
    try {
      await server.waitForStdout((s) => s.includes('kts console: '));
      expect(server.stdout()).toContain(`(cluster ${bSasl};`);
      const topics = await (await fetch(`http://127.0.0.1:${port}/api/topics`)).json();
      expect(JSON.stringify(topics)).toContain('"shown"');
    } finally {
      await stopProcess(server.child, 'SIGTERM');
    }
  });
});
