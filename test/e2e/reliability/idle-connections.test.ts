// 10,000 idle connections held open against the real broker; kcat (librdkafka) then produces and
// consumes through the same broker. Both the broker and the process holding the connections are
// started through `sh -c 'ulimit -n <hard limit>; exec node ...'` so their descriptor limits allow it.
import { type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { KTS_BIN, freePort, tempDir } from '../../helpers/broker.js';
import { exitOf, spawnTracked, stopProcess } from '../../helpers/processes.js';
import { kcat } from '../../helpers/kcat.js';
import { kcatPath } from '../../helpers/tools.js';
import { RawClient } from '../../helpers/raw-client.js';
import { createTopic, figure, mb, rssKb, sleep } from './support.js';

const CONNECTIONS = 10_000;

/** Holds `n` idle connections; prints "held <n> failed <m>" and keeps them until stdin closes. */
const HOLDER = `
const net = require('node:net');
const [port, n] = [Number(process.argv[1]), Number(process.argv[2])];
const sockets = [];
let held = 0, failed = 0, next = 0;
function one() {
  if (next >= n) return Promise.resolve();
  next++;
  return new Promise((res) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => { held++; sockets.push(s); res(); });
    s.on('error', () => { failed++; res(); });
    s.on('close', () => { if (sockets.includes(s)) held--; });
  }).then(one);
}
Promise.all(Array.from({ length: 100 }, one)).then(() => setTimeout(() => console.log('held ' + held + ' failed ' + failed), 500));
process.stdin.on('data', () => console.log('held ' + held + ' failed ' + failed));
process.stdin.on('end', () => process.exit(0));
`;

function withUlimit(cmd: string[]): ChildProcess {
  const quoted = cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return spawnTracked('sh', ['-c', `ulimit -n "$(ulimit -Hn)" 2>/dev/null; ulimit -n 65536 2>/dev/null; exec ${quoted}`], { stdio: ['pipe', 'pipe', 'pipe'] });
}

function waitFor(child: ChildProcess, re: RegExp, timeoutMs: number, out: { text: string }): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}:\n${out.text.slice(-2000)}`)), timeoutMs);
    const check = () => {
      const m = re.exec(out.text);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(m);
      }
    };
    child.stdout!.on('data', check);
    check();
  });
}

describe('10,000 idle connections', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    await Promise.all(children.map((c) => stopProcess(c, 'SIGKILL')));
  });

  it(`the broker holds ${CONNECTIONS.toLocaleString('en-US')} idle connections and still serves kcat`, async () => {
    const port = await freePort();
    const dataDir = tempDir('kts-idle-');
    const broker = withUlimit([process.execPath, KTS_BIN, 'server-start', '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--override', `log.dirs=${dataDir}`]);
    children.push(broker);
    const bout = { text: '' };
    broker.stdout!.on('data', (d) => (bout.text += d));
    broker.stderr!.on('data', (d) => (bout.text += d));
    await waitFor(broker, /ready: bootstrap server/, 20_000, bout);
    const pid = broker.pid!; // exec: the shell became the broker
    const raw = await RawClient.connect(port);
    expect(await createTopic(raw, 'idle', 1)).toBe(0);
    raw.close();
    await sleep(300);
    const before = rssKb(pid);

    const holder = withUlimit([process.execPath, '-e', HOLDER, String(port), String(CONNECTIONS)]);
    children.push(holder);
    const hout = { text: '' };
    holder.stdout!.on('data', (d) => (hout.text += d));
    holder.stderr!.on('data', (d) => (hout.text += d));
    const t0 = Date.now();
    const m = await waitFor(holder, /held (\d+) failed (\d+)/, 90_000, hout);
    const openMs = Date.now() - t0;
    const held = Number(m[1]);
    await sleep(500);
    const withIdle = rssKb(pid);

    // A real client through all that: kcat produces 100 messages and consumes them back.
    let kcatResult = 'kcat not installed (skipped; CI requires it)';
    const lines = Array.from({ length: 100 }, (_, i) => `idle-${i}`);
    if (kcatPath()) {
      await kcat(['-b', `127.0.0.1:${port}`, '-t', 'idle', '-P', '-X', 'acks=all'], { input: lines.join('\n') + '\n', timeoutMs: 30_000 });
      const consumed = await kcat(['-b', `127.0.0.1:${port}`, '-t', 'idle', '-C', '-o', 'beginning', '-e', '-q'], { timeoutMs: 30_000 });
      const got = consumed.split('\n').filter(Boolean);
      expect(got).toEqual(lines);
      kcatResult = `kcat produced ${lines.length} and consumed ${got.length}`;
    }
    // The connections are still there after the traffic.
    hout.text = '';
    holder.stdin!.write('report\n');
    const still = Number((await waitFor(holder, /held (\d+) failed (\d+)/, 10_000, hout))[1]);
    const after = rssKb(pid);
    figure(
      'idle-connections',
      `${held.toLocaleString('en-US')} idle connections opened in ${openMs} ms (failed ${m[2]}), ${still.toLocaleString('en-US')} still open after; ${kcatResult}; ` +
        `broker RSS ${mb(before)} -> ${mb(withIdle)} with the connections (${((withIdle - before) / held).toFixed(1)} kB each) -> ${mb(after)} after kcat`,
    );
    expect(held).toBe(CONNECTIONS);
    expect(still).toBe(CONNECTIONS);
    holder.stdin!.end();
    expect(await exitOf(holder)).toEqual({ code: 0, signal: null });
    expect(await stopProcess(broker, 'SIGTERM')).toEqual({ code: 0, signal: null });
  }, 150_000);
});
