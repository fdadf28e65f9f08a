// Zero config: `kts server-start` with no arguments listens on localhost:9092 with data under
// ~/.kts/data, and the tools reach it without a --bootstrap-server.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KTS_BIN, tempDir } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';

describe('zero config', () => {
  const home = tempDir('kts-home-');
  const env = { ...process.env, HOME: home, KTS_BOOTSTRAP_SERVER: '' };
  let child: ReturnType<typeof spawn>;
  let output = '';
  beforeAll(async () => {
    child = spawn(process.execPath, [KTS_BIN, 'server-start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const deadline = Date.now() + 20_000;
    while (!/ready: bootstrap server/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`broker did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    child?.kill('SIGTERM');
  });

  it('prints the bootstrap address and data directory, and keeps data under ~/.kts/data', () => {
    expect(output).toContain(`bootstrap server localhost:9092, data in ${join(home, '.kts', 'data')}`);
    expect(existsSync(join(home, '.kts', 'data', 'meta.properties'))).toBe(true);
  });

  it('kts topics --create --topic t --partitions 3 works against the default address', async () => {
    const created = await run(process.execPath, [KTS_BIN, 'topics', '--create', '--topic', 't', '--partitions', '3'], { env });
    expect(created.stderr).toBe('');
    expect(created.stdout).toBe('Created topic t.\n');
    expect(created.code).toBe(0);
    const listed = await run(process.execPath, [KTS_BIN, 'topics', '--list'], { env });
    expect(listed.stdout).toBe('t\n');
    expect(existsSync(join(home, '.kts', 'data', 't-2'))).toBe(true);
  });
});
