// The transaction log and snapshots on disk: replay, torn and corrupt tails, snapshot fallback,
// purge, and refusing to start over missing history.
import { readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Database } from '../../../src/coordinator/database.js';
import { silentLogger } from '../../../src/coordinator/logger.js';
import { readLogFile } from '../../../src/coordinator/txn-log.js';
import { deserializeSnapshot, serializeSnapshot } from '../../../src/coordinator/snapshot.js';
import { NodeKind } from '../../../src/coordinator/txn.js';
import { OpCode, OPEN_ACL_UNSAFE } from '../../../src/protocol/zookeeper/index.js';
import { tempDir } from '../../helpers/zookeeper.js';

async function openDb(dataDir: string, snapCount = 100_000) {
  return Database.open({ dataDir, snapCount, preallocateBytes: 64 * 1024, logger: silentLogger, onDurable: () => {}, onFatal: (e) => { throw e; } });
}

// Waits for the snapshot a batch started too: a snapshot due while another is still being written
// is skipped (as ZooKeeper's "Too busy to snap"), so a slow disk would otherwise leave fewer files.
async function writeBatches(db: Database, count: number) {
  for (let i = 0; i < count; i += 10) {
    await writeNodes(db, i, i + 10);
    await db.snapshotSettled();
  }
}

async function writeNodes(db: Database, from: number, to: number) {
  for (let i = from; i < to; i++) {
    const zxid = db.nextZxid();
    db.commit({ sessionId: 0n, cxid: i, zxid, time: 1_700_000_000_000 + i }, { type: OpCode.create, path: `/n${i}`, data: Buffer.from(`v${i}`), acl: [...OPEN_ACL_UNSAFE], kind: NodeKind.persistent, ttl: 0 }, []);
  }
  await db.log.drain();
}

const files = (dataDir: string, re: RegExp) =>
  readdirSync(join(dataDir, 'version-2'))
    .filter((f) => re.test(f))
    .sort((a, b) => parseInt(a.split('.')[1], 16) - parseInt(b.split('.')[1], 16))
    .map((f) => join(dataDir, 'version-2', f));

describe('Database recovery', () => {
  it('replays the log over the snapshot into the same tree, and snapshots at start-up', async () => {
    const dir = tempDir('kts-db-');
    const db = await openDb(dir);
    const sid = 0x99n;
    db.commit({ sessionId: sid, cxid: 0, zxid: db.nextZxid(), time: 1 }, { type: OpCode.createSession, timeout: 6000 }, []);
    await writeNodes(db, 0, 50);
    db.commit({ sessionId: sid, cxid: 0, zxid: db.nextZxid(), time: 2 }, { type: OpCode.create, path: '/e', data: null, acl: [...OPEN_ACL_UNSAFE], kind: NodeKind.ephemeral, ttl: 0 }, []);
    db.commit({ sessionId: sid, cxid: 0, zxid: db.nextZxid(), time: 3 }, { type: OpCode.setData, path: '/n3', data: null, version: 1 }, []);
    const expected = serializeSnapshot(db.tree);
    await db.close();

    const again = await openDb(dir);
    expect(again.report.replayed).toBe(53);
    expect(serializeSnapshot(again.tree).length).toBe(expected.length);
    expect(deserializeSnapshot(serializeSnapshot(again.tree)).nodes.get('/n3')!.version).toBe(1);
    expect(again.tree.sessions.get(sid)).toBe(6000);
    expect(again.tree.stat(again.tree.get('/e')!).ephemeralOwner).toBe(sid);
    expect(again.lastZxid).toBe(53);
    expect(files(dir, /^snapshot\./).length).toBe(2); // the empty one and the start-up one
    await again.close();
    const third = await openDb(dir);
    expect(third.report.replayed).toBe(0);
    await third.close();
  });

  const tails: [string, (log: string, validEnd: number) => Promise<void>][] = [
    ['a half-written record', async (log, end) => writeAt(log, end, Buffer.from([0, 0, 0, 0x30, 1, 2, 3, 4, 9, 9, 9]))],
    ['garbage after the last record', async (log, end) => writeAt(log, end, Buffer.from('garbage garbage garbage'))],
    ['a record with a bad checksum', async (log, end) => writeAt(log, end, Buffer.from([0, 0, 0, 4, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]))],
    ['a file cut in the middle of its header', async (log) => truncateSync(log, 5)],
  ];
  it.each(tails)('cuts %s and keeps everything before it', async (_, damage) => {
    const dir = tempDir('kts-db-tail-');
    const db = await openDb(dir);
    await writeNodes(db, 0, 30);
    await db.close();
    const log = files(dir, /^log\.[0-9a-f]+$/).at(-1)!;
    const { validEnd, records } = await readLogFile(log);
    expect(records).toHaveLength(30);
    await damage(log, validEnd);

    const again = await openDb(dir);
    expect(again.report.truncated).toEqual([log]);
    const survivors = statSync(log).size > 8 ? 30 : 0;
    expect(again.report.replayed).toBe(survivors);
    for (let i = 0; i < survivors; i++) expect(again.tree.get(`/n${i}`)!.data!.toString()).toBe(`v${i}`);
    await writeNodes(again, 100, 105);
    await again.close();
    const third = await openDb(dir);
    expect(third.report.truncated).toEqual([]);
    expect(third.tree.get('/n104')).toBeDefined();
    await third.close();
  });

  it('takes snapshots every ~snapCount txns, falls back past a damaged one, and purges old files', async () => {
    const dir = tempDir('kts-db-snap-');
    const db = await openDb(dir, 20);
    await writeBatches(db, 200);
    await db.close();
    const snaps = files(dir, /^snapshot\./);
    const logs = files(dir, /^log\.[0-9a-f]+$/);
    expect(snaps.length).toBeGreaterThan(5);
    expect(logs.length).toBeGreaterThan(5);

    writeFileSync(snaps.at(-1)!, 'not a snapshot');
    const again = await openDb(dir, 20);
    for (let i = 0; i < 200; i++) expect(again.tree.get(`/n${i}`)).toBeDefined();
    expect(again.report.snapshotZxid).toBeLessThan(200);
    expect(await again.purge()).toBeGreaterThan(0);
    await again.close();
    expect(files(dir, /^snapshot\./)).toHaveLength(3);

    const third = await openDb(dir, 20);
    for (let i = 0; i < 200; i++) expect(third.tree.get(`/n${i}`)).toBeDefined();
    await third.close();
  });

  it('refuses to start when log history is missing', async () => {
    const dir = tempDir('kts-db-gap-');
    const db = await openDb(dir, 20);
    await writeBatches(db, 100);
    await db.close();
    const logs = files(dir, /^log\.[0-9a-f]+$/);
    for (const s of files(dir, /^snapshot\./)) rmSync(s);
    rmSync(logs[1]);
    await expect(openDb(dir, 20)).rejects.toThrow(/missing/);
  });
});

async function writeAt(path: string, pos: number, bytes: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  await fh.write(bytes, 0, bytes.length, pos);
  await fh.close();
}
