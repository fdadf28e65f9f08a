// The coordinator's transaction log after kill -9 with random garbage (not a clean torn record)
// after the last valid record - lengths that claim megabytes, bytes that fail the CRC. The
// coordinator's own tests cover kill -9 loops and a torn record after a clean stop
// (test/e2e/zookeeper/crash-recovery.test.ts); this adds the unclean stop plus garbage, with the
// acknowledged znodes counted.
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, connect, create } from '../../helpers/node-zookeeper.js';
import { readLogFile } from '../../../src/coordinator/txn-log.js';
import { spawnCoordinator, tempDir } from '../../helpers/zookeeper.js';
import { figure } from './support.js';

describe('coordinator: kill -9, then garbage after the last valid log record', () => {
  it('restarts with every acknowledged znode, cuts the garbage, takes writes', async () => {
    const dataDir = tempDir('kts-zk-garbage-');
    let server = await spawnCoordinator({ dataDir });
    const c = await connect(server.port);
    await create(c, '/g');
    const acked: string[] = [];
    for (let i = 0; i < 200; i++) acked.push(await create(c, `/g/n${i}`, `v${i}`));
    c.close();
    await server.kill9();

    const dir = join(dataDir, 'version-2');
    const logs = readdirSync(dir)
      .filter((f) => /^log\.[0-9a-f]+$/.test(f))
      .sort((a, b) => parseInt(a.slice(4), 16) - parseInt(b.slice(4), 16));
    const log = join(dir, logs[logs.length - 1]);
    const { validEnd } = await readLogFile(log);
    // 8 KiB of random bytes, the first word a plausible-looking length (1 MiB).
    const garbage = randomBytes(8192);
    garbage.writeInt32BE(1 << 20, 0);
    const fh = await open(log, 'r+');
    await fh.write(garbage, 0, garbage.length, validEnd);
    await fh.close();

    server = await spawnCoordinator({ dataDir });
    const d = await connect(server.port);
    const children = new Set(await call<string[]>(d, 'getChildren', '/g'));
    const lost = acked.filter((p) => !children.has(p.slice('/g/'.length)));
    for (let i = 0; i < 200; i += 37) expect((await call<Buffer>(d, 'getData', `/g/n${i}`)).toString()).toBe(`v${i}`);
    await create(d, '/after', 'x');
    d.close();
    await server.kill9();
    server = await spawnCoordinator({ dataDir });
    const e = await connect(server.port);
    const afterOk = (await call<Buffer>(e, 'getData', '/after')).toString() === 'x';
    const count = (await call<string[]>(e, 'getChildren', '/g')).length;
    e.close();
    await server.stop();
    figure('coordinator', `kill -9 + 8 KiB garbage after the log's valid end: acked lost: ${lost.length} of ${acked.length}; /g has ${count} children after two restarts; write after recovery survives the next kill -9: ${afterOk}`);
    expect(lost).toEqual([]);
    expect(count).toBe(200);
    expect(afterOk).toBe(true);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);
});
