// Completion of names only the cluster knows (issue 17): bash, through the script `kts completion
// bash` prints, completes `kts console-consumer --topic <TAB>` with the topics of a real kts broker
// (reached by the --bootstrap-server typed on the line, split by bash at ':', or by
// $KTS_BOOTSTRAP_SERVER), `--group <TAB>` with its consumer groups, `kts profile use <TAB>` with the
// profiles. A refused or silent broker gives no candidates, quickly, and never an error on the terminal.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KTS_BIN, freePort, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { kts } from './support.js';

const execFileAsync = promisify(execFile);

describe('completion of topic, group and profile names', () => {
  let broker: SpawnedBroker;
  const dir = tempDir('kts-complete-names-');
  const bin = join(dir, 'bin');

  beforeAll(async () => {
    mkdirSync(bin);
    writeFileSync(join(bin, 'kts'), `#!/bin/sh\nexec "${process.execPath}" "${KTS_BIN}" "$@"\n`);
    chmodSync(join(bin, 'kts'), 0o755);
    symlinkSync(join(bin, 'kts'), join(bin, 'kafka-console-consumer.sh'));
    const script = await execFileAsync(process.execPath, [KTS_BIN, 'completion', 'bash']);
    writeFileSync(join(dir, 'kts.bash'), script.stdout);
    broker = await spawnBroker();
    const b = ['--bootstrap-server', broker.bootstrap];
    for (const topic of ['orders', 'orders-dlq', 'payments']) expect((await kts(['topics', ...b, '--create', '--topic', topic])).code).toBe(0);
    expect((await kts(['console-producer', ...b, '--topic', 'orders'], { input: 'one\n' })).code).toBe(0);
    expect((await kts(['console-consumer', ...b, '--topic', 'orders', '--group', 'billing', '--from-beginning', '--max-messages', '1'])).code).toBe(0);
  }, 60_000);
  afterAll(() => broker?.stop());

  /** What bash offers for the line `words` (the last word being typed), and how long it took (a loaded machine gets 10 s for the lookup). */
  const bash = async (words: string[], env: Record<string, string> = {}) => {
    const script = `source ${join(dir, 'kts.bash')}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})\nCOMP_CWORD=${words.length - 1}\n_kts_complete\nprintf '%s\\n' "\${COMPREPLY[@]}"`;
    const started = performance.now();
    const r = await execFileAsync('bash', ['--norc', '--noprofile', '-c', script], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, KTS_BOOTSTRAP_SERVER: '', KTS_CONFIG_DIR: join(dir, 'config'), KTS_COMPLETE_TIMEOUT_MS: '10000', ...env },
    });
    return { candidates: r.stdout.split('\n').filter(Boolean), stderr: r.stderr, ms: performance.now() - started };
  };
  // bash's COMP_WORDS break at ':' (COMP_WORDBREAKS): host:port arrives as three words.
  const typed = (bootstrap: string) => {
    const [host, port] = bootstrap.split(':');
    return ['--bootstrap-server', host, ':', port];
  };

  it('--topic and --group values come from the broker the line names, or from $KTS_BOOTSTRAP_SERVER', async () => {
    expect((await bash(['kts', 'console-consumer', ...typed(broker.bootstrap), '--topic', 'or'])).candidates).toEqual(['orders', 'orders-dlq']);
    expect((await bash(['kts', 'console-consumer', '--topic', ''], { KTS_BOOTSTRAP_SERVER: broker.bootstrap })).candidates).toEqual(['orders', 'orders-dlq', 'payments']);
    // Internal topics only when asked for.
    expect((await bash(['kts', 'get-offsets', '--topic', '__c'], { KTS_BOOTSTRAP_SERVER: broker.bootstrap })).candidates).toEqual(['__consumer_offsets']);
    expect((await bash(['kts', 'consumer-groups', ...typed(broker.bootstrap), '--describe', '--group', ''])).candidates).toEqual(['billing']);
    expect((await bash(['kafka-console-consumer.sh', '--bootstrap-server', broker.bootstrap, '--group', 'b'])).candidates).toEqual(['billing']);
    expect((await bash(['kts', 'configs', '--entity-type', 'topics', '--entity-name', 'pay'], { KTS_BOOTSTRAP_SERVER: broker.bootstrap })).candidates).toEqual(['payments']);
    // A topic being created has no name to complete: the broker is not asked.
    expect((await bash(['kts', 'topics', '--create', '--topic', 'or'], { KTS_BOOTSTRAP_SERVER: broker.bootstrap })).candidates).toEqual([]);
  });

  it('kts profile use <TAB> offers the profiles, and the profile in use is the cluster asked', async () => {
    const config = { KTS_CONFIG_DIR: join(dir, 'profiles') };
    expect((await kts(['profile', 'add', 'local', '--bootstrap-server', broker.bootstrap, '--use'], { env: config })).code).toBe(0);
    expect((await kts(['profile', 'add', 'later', '--bootstrap-server', '127.0.0.1:1'], { env: config })).code).toBe(0);
    expect((await bash(['kts', 'profile', 'use', ''], config)).candidates).toEqual(['later', 'local']);
    expect((await bash(['kts', 'profile', 'remove', 'lo'], config)).candidates).toEqual(['local']);
    expect((await bash(['kts', 'console-consumer', '--topic', 'pay'], config)).candidates).toEqual(['payments']);
  });

  it('a refused or a silent broker: no candidates, no error text, within the timeout', async () => {
    const refused = await bash(['kts', 'console-consumer', '--bootstrap-server', '127.0.0.1:1', '--topic', '']);
    expect(refused).toMatchObject({ candidates: [], stderr: '' });
    // A broker that accepts connections and never answers.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => void sockets.push(s));
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    try {
      const quick = await bash(['kts', 'console-consumer', '--bootstrap-server', `127.0.0.1:${port}`, '--topic', ''], { KTS_COMPLETE_TIMEOUT_MS: '300' });
      const slow = await bash(['kts', 'console-consumer', '--bootstrap-server', `127.0.0.1:${port}`, '--topic', ''], { KTS_COMPLETE_TIMEOUT_MS: '2500' });
      expect(quick).toMatchObject({ candidates: [], stderr: '' });
      expect(slow).toMatchObject({ candidates: [], stderr: '' });
      // The wait is the timeout's: the 2.5 s budget is spent, the 0.3 s one is not (process start-up is in both).
      expect(slow.ms).toBeGreaterThanOrEqual(2500);
      expect(quick.ms).toBeLessThan(slow.ms);
      expect(slow.ms).toBeLessThan(2500 + 10_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
