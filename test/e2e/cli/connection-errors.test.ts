// Reaching no broker: a refused connection (nothing listens on the port) fails at once, naming the
// address and what to check; a silent one (a peer that accepts and never answers) waits the bounded
// budget ($KTS_CONNECT_TIMEOUT_MS) and says so; a bootstrap list with one refusing and one live
// address still works. The in-process runs time the tool's own work (spawning node on a loaded
// machine costs more than the second allowed); the spawned ones check what a user sees.
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import topics from '../../../commands/topics.js';
import { runTool } from '../../../src/cli/tool.js';
import { freePort, spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { STACK_LINE, kts } from './support.js';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  return { stream, text: () => text };
}

async function listTopicsInProcess(bootstrap: string, env: NodeJS.ProcessEnv = {}) {
  const out = capture();
  const err = capture();
  const began = performance.now();
  const code = await runTool(topics.tool, ['--list', '--bootstrap-server', bootstrap], { stdout: out.stream, stderr: err.stream, env });
  return { code, ms: performance.now() - began, stdout: out.text(), stderr: err.text() };
}

describe('connection errors', () => {
  let silent: Server;
  let silentPort: number;
  const held: Socket[] = [];
  let broker: SpawnedBroker;
  beforeAll(async () => {
    // Accepts connections and never answers: a broker that hangs, or a proxy that swallows them.
    silent = createServer((s) => void held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as { port: number }).port;
    broker = await spawnBroker();
    // Once untimed: the first run imports (and vitest transforms) the tool and the client.
    await listTopicsInProcess(`127.0.0.1:${await freePort()}`);
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise((r) => silent.close(r));
    await broker?.stop();
  });

  it('a refused connection fails at once, far inside a 60 s budget, naming the address', async () => {
    const port = await freePort();
    const bs = `127.0.0.1:${port}`;
    // The budget is large and the bounds far below it, so that a tool waiting out its budget fails
    // while a loaded 2-core machine (load 30: a starved event loop, seconds to spawn node) passes.
    const env = { KTS_CONNECT_TIMEOUT_MS: '60000' };
    const r = await listTopicsInProcess(bs, env);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.stdout).toBe(
      `Error while executing topic command : Could not connect to any broker at ${bs}: connect ECONNREFUSED ${bs}. ` +
        'Check that a broker is running and listening there (kts server-start starts one), or give another address with --bootstrap-server or $KTS_BOOTSTRAP_SERVER.\n',
    );
    // Every address refusing: still at once.
    const two = await listTopicsInProcess(`${bs},127.0.0.1:${await freePort()}`, env);
    expect(two.ms).toBeLessThan(10_000);
    expect(two.stdout).toMatch(/ECONNREFUSED .*; connect ECONNREFUSED /);

    // The real binary, as a user runs it: one line, exit 1, far below the budget.
    const began = Date.now();
    const spawned = await kts(['topics', '--list', '--bootstrap-server', bs], { env, timeoutMs: 60_000 });
    expect(Date.now() - began).toBeLessThan(30_000);
    expect(spawned).toMatchObject({ code: 1, stdout: r.stdout, stderr: '' });
  }, 120_000);

  it('a refused connection fails in under a second with the default 10 s budget', async () => {
    // The fastest of five warm runs: a tool that waits on any timer (a retry backoff, the budget)
    // is slow every time, while a starved event loop on a loaded machine slows only some runs.
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await listTopicsInProcess(`127.0.0.1:${await freePort()}`);
      expect(r.code).toBe(1);
      times.push(r.ms);
    }
    expect(Math.min(...times), times.map((t) => t.toFixed(0)).join(' ')).toBeLessThan(1000);
  }, 120_000);

  it('a name that does not resolve fails at once and says to check the name', async () => {
    const r = await listTopicsInProcess('no-such-host.invalid:9092', { KTS_CONNECT_TIMEOUT_MS: '60000' });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(20_000); // the resolver's answer, not the 60 s budget
    expect(r.stdout).toMatch(/Could not connect to any broker at no-such-host\.invalid:9092: getaddrinfo E\w+ no-such-host\.invalid\. Check the host name/);
  });

  it('a silent peer costs the bounded budget, then one line saying what to check', async () => {
    const bs = `127.0.0.1:${silentPort}`;
    const r = await listTopicsInProcess(bs, { KTS_CONNECT_TIMEOUT_MS: '1500' });
    expect(r.code).toBe(1);
    expect(r.ms).toBeGreaterThanOrEqual(1400);
    expect(r.ms).toBeLessThan(6000);
    expect(r.stdout).toMatch(
      new RegExp(`^Error while executing topic command : Could not connect to any broker at ${bs} within 1(\\.\\d)? s \\(.*[Tt]imed out.*\\)\\. Check the address, and that no firewall or proxy drops the connection; KTS_CONNECT_TIMEOUT_MS sets the wait\\.\\n$`),
    );
    const spawned = await kts(['consumer-groups', '--list', '--bootstrap-server', bs], { env: { KTS_CONNECT_TIMEOUT_MS: '1000' } });
    expect(spawned.stdout).toMatch(/^\nError: Executing consumer group command failed due to Could not connect to any broker at .* within 1(\.\d)? s .*Check the address/);
    expect(spawned.stdout + spawned.stderr).not.toMatch(STACK_LINE);
  });

  it('one refusing and one live address: the live one serves (no early failure)', async () => {
    const created = await kts(['topics', '--create', '--topic', 'reachable', '--bootstrap-server', broker.bootstrap]);
    expect(created.code).toBe(0);
    const r = await listTopicsInProcess(`127.0.0.1:${await freePort()},${broker.bootstrap}`);
    expect(r).toMatchObject({ code: 0, stdout: 'reachable\n' });
    // A silent address first, then the live one: served within the budget too.
    const s = await listTopicsInProcess(`127.0.0.1:${silentPort},${broker.bootstrap}`, { KTS_CONNECT_TIMEOUT_MS: '8000' });
    expect(s).toMatchObject({ code: 0, stdout: 'reachable\n' });
  });
});
