// Snapshots: the whole tree and session table at one zxid, in `snapshot.<zxid hex>`.
//
// Layout: `KTSS` + format version, long zxid, sessions (vector of {long id, int timeout}), int
// node count, the nodes parents-first (path, data, acl, stat fields, kind, owner, ttl), and a
// trailing crc32c of everything before it. The tree is serialized synchronously (so it is one
// consistent point in zxid order) and written with write-temp/fsync/rename/fsync-dir, so a crash
// leaves either no file or a whole one; a damaged file is skipped in favour of an older one.
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { JuteError, JuteReader, JuteWriter, readACL, writeACL } from '../protocol/zookeeper/index.js';
import { writeFileAtomic } from '../cluster/atomic-file.js';
import { DataTree, type ZNode } from './data-tree.js';
import { checksum } from './files.js';
import type { NodeKindValue } from './txn.js';

const MAGIC = Buffer.from('KTSS\0\0\0\x01', 'latin1');

export interface SnapshotInfo {
  path: string;
  zxid: number;
}

export async function listSnapshots(dir: string): Promise<SnapshotInfo[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => /^snapshot\.[0-9a-f]+$/.test(n))
    .map((n) => ({ path: join(dir, n), zxid: parseInt(n.slice(9), 16) }))
    .sort((a, b) => a.zxid - b.zxid);
}

export function serializeSnapshot(tree: DataTree): Buffer {
  const w = new JuteWriter(Math.max(4096, tree.dataSize * 2 + tree.nodes.size * 128));
  w.raw(MAGIC).long(tree.lastZxid);
  w.vector([...tree.sessions], (x, [id, timeout]) => x.bigint(id).int(timeout));
  w.int(tree.nodes.size);
  const stack = ['/'];
  while (stack.length) {
    const path = stack.pop()!;
    const n = tree.nodes.get(path)!;
    w.string(path).buffer(n.data).vector(n.acl, writeACL);
    w.long(n.czxid).long(n.mzxid).long(n.ctime).long(n.mtime);
    w.int(n.version).int(n.cversion).int(n.aversion).int(n.kind).bigint(n.owner).long(n.ttl).long(n.pzxid);
    for (const c of n.children) stack.push(path === '/' ? `/${c}` : `${path}/${c}`);
  }
  w.int(checksum(w.buf, 0, w.pos) | 0);
  return Buffer.from(w.bytes());
}

export function deserializeSnapshot(buf: Buffer): DataTree {
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new JuteError('not a kts snapshot');
  const end = buf.length - 4;
  if ((checksum(buf, 0, end) | 0) !== buf.readInt32BE(end)) throw new JuteError('snapshot checksum mismatch');
  const r = new JuteReader(buf, MAGIC.length, end);
  const tree = new DataTree(true);
  tree.lastZxid = r.long();
  for (const [id, timeout] of r.vector((x) => [x.bigint(), x.int()] as const) ?? []) tree.sessions.set(id, timeout);
  const count = r.int();
  for (let i = 0; i < count; i++) {
    const path = r.text();
    const data = r.buffer();
    const node: ZNode = {
      data: data === null ? null : Buffer.from(data),
      acl: r.vector(readACL) ?? [],
      czxid: r.long(),
      mzxid: r.long(),
      ctime: r.long(),
      mtime: r.long(),
      version: r.int(),
      cversion: r.int(),
      aversion: r.int(),
      kind: r.int() as NodeKindValue,
      owner: r.bigint(),
      ttl: r.long(),
      pzxid: r.long(),
      children: new Set(),
    };
    tree.restore(path, node);
  }
  if (r.remaining !== 0 || !tree.nodes.has('/')) throw new JuteError('malformed snapshot');
  return tree;
}

export async function writeSnapshot(dir: string, zxid: number, bytes: Buffer): Promise<string> {
  const path = join(dir, `snapshot.${zxid.toString(16)}`);
  await writeFileAtomic(path, bytes);
  return path;
}

/** The newest snapshot that reads back whole, or null. Damaged ones are reported and skipped. */
export async function loadNewestSnapshot(
  dir: string,
  warn: (msg: string) => void,
): Promise<{ tree: DataTree; info: SnapshotInfo } | null> {
  const snaps = await listSnapshots(dir);
  for (let i = snaps.length - 1; i >= 0; i--) {
    try {
      return { tree: deserializeSnapshot(await readFile(snaps[i].path)), info: snaps[i] };
    } catch (e) {
      warn(`Skipping unreadable snapshot ${snaps[i].path}: ${(e as Error).message}`);
    }
  }
  return null;
}

export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch(() => {});
}
