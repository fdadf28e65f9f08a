// Zero config: `kts server-start` with no arguments listens on localhost:9092 with data under
// ~/.kts/data, and the tools reach it without a --bootstrap-server.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KTS_BIN, tempDir } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';

describe('zero config', () => {
  const home = tempDir('kts-home-');
  const env = { ...process.env, HOME: home, KTS_BOOTSTRAP_SERVER: '' };
  let child: ChildProcess;
  let output = '';
  // The one test that must use the fixed default port: another suite on the machine (a second
  // checkout's `npm test`) may hold 9092 for a while, so a start refused with EADDRINUSE is retried
  // until the port is free rather than failed.
  beforeAll(async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      output = '';
      child = spawnTracked(process.execPath, [KTS_BIN, 'server-start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      while (!/ready: bootstrap server/.test(output) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (/ready: bootstrap server/.test(output)) return;
      await stopProcess(child, 'SIGKILL');
      if (!/EADDRINUSE/.test(output) || Date.now() >= deadline) throw new Error(`broker did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  });
  // The broker writes its checkpoints into HOME while it shuts down: wait for the exit before
  // test/setup.ts removes HOME (it used to race it: ENOTEMPTY on .kts/data).
  afterAll(async () => {
    if (child) expect(await stopProcess(child, 'SIGTERM')).toEqual({ code: 0, signal: null });
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
