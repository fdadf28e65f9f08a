// Durability of `kts zookeeper-server-start` as a real child process: kill -9 during writes, then
// restart on the same data directory; every acknowledged create must be there. A torn log tail
// is cut on restart; sessions (and their ephemerals) survive a restart within their timeout.
import { readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zookeeper, connect, call, create } from '../../helpers/node-zookeeper.js';
import { readLogFile } from '../../../src/coordinator/txn-log.js';
import { spawnCoordinator, tempDir, waitFor } from '../../helpers/zookeeper.js';

/** Creates /acked/<n> with `inFlight` requests outstanding until stopped; returns what was acknowledged. */
function writeLoop(c: unknown, inFlight: number, prefix: string) {
  const acked: string[] = [];
  let n = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped) {
      const path = `/acked/${prefix}-${String(n++).padStart(8, '0')}`;
      try {
        await create(c, path);
        acked.push(path);
      } catch (e) {
        if (process.env.ZK_DEBUG) console.log('worker stopped:', String(e));
        return; // connection lost: unknown outcome, not acknowledged
      }
    }
  };
  const done = Promise.all(Array.from({ length: inFlight }, worker));
  return { acked, stop: () => ((stopped = true), done), done };
}

function newestLog(dataDir: string): string {
  const dir = join(dataDir, 'version-2');
  const logs = readdirSync(dir).filter((f) => /^log\.[0-9a-f]+$/.test(f));
  logs.sort((a, b) => parseInt(a.slice(4), 16) - parseInt(b.slice(4), 16));
  return join(dir, logs[logs.length - 1]);
}

describe('coordinator crash recovery (child process, kill -9)', () => {
  it('keeps every acknowledged create across repeated kill -9 during writes', async () => {
    const dataDir = tempDir('kts-zk-crash-');
    let server = await spawnCoordinator({ dataDir });
    const setup = await connect(server.port);
    await create(setup, '/acked');
    setup.close();
    const allAcked: string[] = [];
    const rounds = 4;
    for (let round = 0; round < rounds; round++) {
      const c = await connect(server.port);
      const loop = writeLoop(c, 64, `r${round}`);
      // Kill mid-stream: once writes are flowing, at a different point each round.
      await waitFor('acknowledged creates', () => loop.acked.length >= 50 + round * 200, 30_000);
      await new Promise((r) => setTimeout(r, round * 37));
      await server.kill9();
      await loop.done;
      c.close();
      allAcked.push(...loop.acked);
      server = await spawnCoordinator({ dataDir });
      expect(server.output()).toMatch(/Loaded database in \d+ ms/);
    }
    const check = await connect(server.port);
    const children = new Set(await call<string[]>(check, 'getChildren', '/acked'));
    const lost = allAcked.filter((p) => !children.has(p.slice('/acked/'.length)));
    // Reported as a figure, per docs/reliability.md.
    console.log(`coordinator kill -9: acked lost: ${lost.length} of ${allAcked.length} over ${rounds} kills`);
    expect(lost).toEqual([]);
    check.close();
    await server.stop();
  });

  it('cuts a torn transaction-log tail on restart and keeps serving', async () => {
    const dataDir = tempDir('kts-zk-torn-');
    let server = await spawnCoordinator({ dataDir });
    const c = await connect(server.port);
    for (let i = 0; i < 20; i++) await create(c, `/n${i}`, `v${i}`);
    c.close();
    expect(await server.stop()).toBe(0);

    // A write that was in progress when the machine died: a record header and half a body.
    const log = newestLog(dataDir);
    const { validEnd, records } = await readLogFile(log);
    expect(records.length).toBeGreaterThanOrEqual(20);
    const fh = await open(log, 'r+');
    await fh.write(Buffer.from([0, 0, 0, 0x40, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7]), 0, 15, validEnd);
    await fh.close();

    server = await spawnCoordinator({ dataDir });
    expect(server.output()).toMatch(/truncating at byte \d+/);
    expect(statSync(`${log}.corrupt-tail`).size).toBeGreaterThan(0);
    const d = await connect(server.port);
    for (let i = 0; i < 20; i++) expect((await call<Buffer>(d, 'getData', `/n${i}`)).toString()).toBe(`v${i}`);
    await create(d, '/after', 'x');
    d.close();
    await server.kill9();
    server = await spawnCoordinator({ dataDir });
    expect(server.output()).not.toMatch(/truncating/);
    const e = await connect(server.port);
    expect((await call<Buffer>(e, 'getData', '/after')).toString()).toBe('x');
    e.close();
    await server.stop();
  });

  it('restores sessions after a restart: the client resumes and its ephemeral stays', async () => {
    const dataDir = tempDir('kts-zk-sess-');
    let server = await spawnCoordinator({ dataDir });
    const port = server.port;
    const c = await connect(port, 10_000);
    const sessionId = c.getSessionId().toString('hex');
    await create(c, '/lease');
    await call(c, 'create', '/lease/me', Buffer.from('x'), zookeeper.ACL.OPEN_ACL_UNSAFE, zookeeper.CreateMode.EPHEMERAL);
    const reconnected = new Promise<void>((r) => c.once('connected', () => r()));
    await server.kill9();
    server = await spawnCoordinator({ dataDir, props: { clientPort: port } });
    await reconnected;
    expect(c.getSessionId().toString('hex')).toBe(sessionId);
    const stat = await call<{ ephemeralOwner: Buffer }>(c, 'exists', '/lease/me');
    expect(stat.ephemeralOwner.toString('hex')).toBe(sessionId);
    // Closing the resumed session removes its ephemeral as usual.
    await new Promise<void>((r) => {
      c.once('disconnected', () => r());
      c.close();
    });
    const d = await connect(port);
    await waitFor('ephemeral removed', async () => (await call(d, 'exists', '/lease/me')) === null);
    d.close();
    await server.stop();
  });
});
