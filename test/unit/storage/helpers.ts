// Test helpers for the storage engine: a tiny magic-2 batch builder/decoder (independent of the
// protocol/records builder), temp dirs, and FileSystem wrappers that count reads or inject faults.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../../../src/protocol/records/crc.js';
import { type LogConfig, defaultLogConfig } from '../../../src/storage/config.js';
import type { FileHandle, FileSystem } from '../../../src/storage/file-system.js';
import { nodeFileSystem } from '../../../src/storage/file-system.js';
import { LogManager } from '../../../src/storage/log-manager.js';
import type { StorageLogger } from '../../../src/storage/partition-log.js';

export interface TestRecord {
  value: string | Buffer | null;
  key?: string | Buffer | null;
  timestamp?: number;
  headers?: Array<[string, string | null]>;
}

function varlong(n: number): number[] {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (z >= 0x80) {
    out.push((z % 128) | 0x80);
    z = Math.floor(z / 128);
  }
  out.push(z);
  return out;
}

function bytesOf(v: string | Buffer | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : v;
}

/** One uncompressed magic-2 batch (baseOffset 0, as a producer writes it). */
export function buildBatch(
  records: TestRecord[],
  opts: { now?: number; compression?: number; body?: Buffer; producerId?: number } = {},
): Buffer {
  const now = opts.now ?? 1_700_000_000_000;
  const timestamps = records.map((r) => r.timestamp ?? now);
  const baseTimestamp = timestamps.length ? timestamps[0] : now;
  const maxTimestamp = timestamps.length ? Math.max(...timestamps) : now;
  let body: Buffer;
  if (opts.body) body = opts.body;
  else {
    const parts: Buffer[] = [];
    records.forEach((r, i) => {
      const key = bytesOf(r.key);
      const value = bytesOf(r.value);
      const fields: number[] = [0, ...varlong(timestamps[i] - baseTimestamp), ...varlong(i)];
      const chunks: Buffer[] = [];
      chunks.push(Buffer.from([...fields, ...varlong(key ? key.length : -1)]));
      if (key) chunks.push(key);
      chunks.push(Buffer.from(varlong(value ? value.length : -1)));
      if (value) chunks.push(value);
      const headers = r.headers ?? [];
      chunks.push(Buffer.from(varlong(headers.length)));
      for (const [hk, hv] of headers) {
        const k = Buffer.from(hk);
        chunks.push(Buffer.from(varlong(k.length)), k);
        const v = bytesOf(hv);
        chunks.push(Buffer.from(varlong(v ? v.length : -1)));
        if (v) chunks.push(v);
      }
      const rec = Buffer.concat(chunks);
      parts.push(Buffer.from(varlong(rec.length)), rec);
    });
    body = Buffer.concat(parts);
  }
  const buf = Buffer.alloc(61 + body.length);
  buf.writeBigInt64BE(0n, 0);
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeInt32BE(-1, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(opts.compression ?? 0, 21);
  buf.writeInt32BE(records.length - 1, 23);
  buf.writeBigInt64BE(BigInt(baseTimestamp), 27);
  buf.writeBigInt64BE(BigInt(maxTimestamp), 35);
  buf.writeBigInt64BE(BigInt(opts.producerId ?? -1), 43);
  buf.writeInt16BE(-1, 51);
  buf.writeInt32BE(-1, 53);
  buf.writeInt32BE(records.length, 57);
  body.copy(buf, 61);
  buf.writeUInt32BE(crc32c(buf, 21, buf.length), 17);
  return buf;
}

/** A batch of `n` records with values `${prefix}${i}`. */
export function valuesBatch(prefix: string, n: number, opts: { timestamp?: number; pad?: number } = {}): Buffer {
  const pad = opts.pad ? 'x'.repeat(opts.pad) : '';
  return buildBatch(Array.from({ length: n }, (_, i) => ({ value: `${prefix}${i}${pad}`, timestamp: opts.timestamp })));
}

function readVarlong(buf: Buffer, pos: { p: number }): number {
  let raw = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos.p++];
    raw += (b & 0x7f) * mul;
    if (!(b & 0x80)) break;
    mul *= 128;
  }
  return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
}

export interface DecodedBatch {
  baseOffset: number;
  lastOffset: number;
  count: number;
  leaderEpoch: number;
  attributes: number;
  maxTimestamp: number;
  records: Array<{ offset: number; timestamp: number; value: string | null }>;
}

/** Splits whole batches and decodes the records of uncompressed ones. */
export function decodeBatches(buf: Buffer): DecodedBatch[] {
  const out: DecodedBatch[] = [];
  let p = 0;
  while (p + 12 <= buf.length) {
    const size = 12 + buf.readInt32BE(p + 8);
    if (p + size > buf.length) throw new Error(`partial batch at ${p}`);
    const baseOffset = Number(buf.readBigInt64BE(p));
    const attributes = buf.readInt16BE(p + 21);
    const count = buf.readInt32BE(p + 57);
    const baseTs = Number(buf.readBigInt64BE(p + 27));
    const records: DecodedBatch['records'] = [];
    if ((attributes & 7) === 0) {
      const pos = { p: p + 61 };
      for (let i = 0; i < count; i++) {
        const len = readVarlong(buf, pos);
        const end = pos.p + len;
        pos.p++;
        const tsDelta = readVarlong(buf, pos);
        const offDelta = readVarlong(buf, pos);
        const kl = readVarlong(buf, pos);
        if (kl > 0) pos.p += kl;
        const vl = readVarlong(buf, pos);
        const value = vl < 0 ? null : buf.toString('utf8', pos.p, pos.p + vl);
        records.push({ offset: baseOffset + offDelta, timestamp: baseTs + tsDelta, value });
        pos.p = end;
      }
    }
    out.push({
      baseOffset,
      lastOffset: baseOffset + buf.readInt32BE(p + 23),
      count,
      leaderEpoch: buf.readInt32BE(p + 12),
      attributes,
      maxTimestamp: Number(buf.readBigInt64BE(p + 35)),
      records,
    });
    p += size;
  }
  return out;
}

export function recordsOf(buf: Buffer): Array<{ offset: number; value: string | null }> {
  return decodeBatches(buf).flatMap((b) => b.records.map((r) => ({ offset: r.offset, value: r.value })));
}

export const testConfig = (overrides: Partial<LogConfig> = {}): LogConfig => ({
  ...defaultLogConfig,
  segmentBytes: 64 * 1024,
  indexIntervalBytes: 512,
  fileDeleteDelayMs: 0,
  retentionMs: -1,
  ...overrides,
});

export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kts-storage-'));
  // Retried: a test that drops a log manager without closing it (a crash) may still have a write of
  // that manager landing while the directory is removed (ENOTEMPTY, seen once at load 35).
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 5 }) };
}

export function captureLogger(): StorageLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`INFO ${m}`),
    warn: (m) => lines.push(`WARN ${m}`),
    error: (m) => lines.push(`ERROR ${m}`),
  };
}

export async function openManager(
  dir: string,
  opts: { config?: Partial<LogConfig>; fs?: FileSystem; now?: () => number; logger?: StorageLogger } = {},
): Promise<LogManager> {
  return LogManager.open({
    logDirs: [dir],
    defaults: testConfig(opts.config),
    fs: opts.fs,
    now: opts.now,
    logger: opts.logger ?? captureLogger(),
  });
}

/** Wraps every handle so that preads are counted. */
export function countingFs(inner: FileSystem = nodeFileSystem): FileSystem & { bytesRead: number; reads: number } {
  const fs = {
    ...inner,
    bytesRead: 0,
    reads: 0,
    async open(path: string, flags: 'r' | 'r+' | 'w+' | 'wx+'): Promise<FileHandle> {
      const h = await inner.open(path, flags);
      return {
        ...bind(h),
        async pread(buffer, offset, length, position) {
          const n = await h.pread(buffer, offset, length, position);
          fs.bytesRead += n;
          fs.reads++;
          return n;
        },
      };
    },
  };
  return fs;
}

function bind(h: FileHandle): FileHandle {
  return {
    pread: h.pread.bind(h),
    pwrite: h.pwrite.bind(h),
    fdatasync: h.fdatasync.bind(h),
    truncate: h.truncate.bind(h),
    stat: h.stat.bind(h),
    close: h.close.bind(h),
  };
}

/**
 * Every handle's fdatasync goes through `fdatasync(path, sync)`: `path` as the file was opened, `sync`
 * the real call (a test counts, holds or never makes it). The other calls pass straight through.
 */
export function interceptFdatasync(fdatasync: (path: string, sync: () => Promise<void>) => Promise<void>, inner: FileSystem = nodeFileSystem): FileSystem {
  return {
    ...inner,
    async open(path: string, flags: 'r' | 'r+' | 'w+' | 'wx+'): Promise<FileHandle> {
      const h = await inner.open(path, flags);
      const handle: FileHandle = { ...bind(h), fdatasync: () => fdatasync(path, () => h.fdatasync()) };
      if (h.pwritev) handle.pwritev = h.pwritev.bind(h);
      return handle;
    },
  };
}

export type Fault = (op: 'pwrite' | 'fdatasync' | 'truncate' | 'open', path: string) => 'fail' | 'partial' | undefined;

/** Fails chosen calls with `code` (ENOSPC by default); 'partial' writes half the bytes, then fails. */
export function faultyFs(inner: FileSystem = nodeFileSystem, code = 'ENOSPC'): FileSystem & { fault: Fault | undefined } {
  const error = (op: string, path: string) => Object.assign(new Error(`${code}: injected ${op} failure, ${path}`), { code });
  const fs = {
    ...inner,
    fault: undefined as Fault | undefined,
    async open(path: string, flags: 'r' | 'r+' | 'w+' | 'wx+'): Promise<FileHandle> {
      if (fs.fault?.('open', path) === 'fail') throw error('open', path);
      const h = await inner.open(path, flags);
      return {
        ...bind(h),
        async pwrite(buffer, offset, length, position) {
          const f = fs.fault?.('pwrite', path);
          if (f === 'partial' && length > 1) {
            await h.pwrite(buffer, offset, length >> 1, position);
            throw error('pwrite', path);
          }
          if (f) throw error('pwrite', path);
          return h.pwrite(buffer, offset, length, position);
        },
        async fdatasync() {
          if (fs.fault?.('fdatasync', path)) throw error('fdatasync', path);
          return h.fdatasync();
        },
        async truncate(len) {
          if (fs.fault?.('truncate', path)) throw error('truncate', path);
          return h.truncate(len);
        },
      };
    },
  };
  return fs;
}

/** Remembers every handle it opens, so a test can "crash" a manager: close the fds and write nothing else. */
export function trackingFs(inner: FileSystem = nodeFileSystem): FileSystem & { closeAll(): Promise<void> } {
  const open = new Set<FileHandle>();
  return {
    ...inner,
    async open(path: string, flags: 'r' | 'r+' | 'w+' | 'wx+'): Promise<FileHandle> {
      const h = await inner.open(path, flags);
      open.add(h);
      return {
        ...bind(h),
        async close() {
          open.delete(h);
          await h.close();
        },
      };
    },
    async closeAll() {
      const all = [...open];
      open.clear();
      await Promise.allSettled(all.map((h) => h.close()));
    },
  };
}

/**
 * Records every call in flight (what, on which path, since when) and the last `keep` that finished,
 * so that a test that hangs can say whether it waits on the disk (a call still in flight) or on a
 * promise that nothing settles (no call in flight): `report(root)` lists both, paths below `root`
 * shortened (a handle's calls name the path it was opened at).
 */
export function tracingFs(inner: FileSystem = nodeFileSystem, keep = 40): FileSystem & { report(root?: string): string } {
  const t0 = performance.now();
  const inFlight = new Map<number, { what: string; at: number }>();
  const finished: string[] = [];
  let next = 0;
  async function traced<T>(what: string, call: () => Promise<T>): Promise<T> {
    const id = next++;
    const at = performance.now();
    inFlight.set(id, { what, at });
    let outcome = 'ok';
    try {
      return await call();
    } catch (err) {
      outcome = (err as { code?: string }).code ?? 'error';
      throw err;
    } finally {
      inFlight.delete(id);
      const end = performance.now();
      finished.push(`+${(at - t0).toFixed(1)} ms ${what}: ${outcome} in ${(end - at).toFixed(1)} ms`);
      if (finished.length > keep) finished.shift();
    }
  }
  return {
    async open(path, flags) {
      const h = await traced(`open ${path} ${flags}`, () => inner.open(path, flags));
      const handle: FileHandle = {
        pread: (b, o, l, p) => traced(`pread ${path} @${p}+${l}`, () => h.pread(b, o, l, p)),
        pwrite: (b, o, l, p) => traced(`pwrite ${path} @${p}+${l}`, () => h.pwrite(b, o, l, p)),
        fdatasync: () => traced(`fdatasync ${path}`, () => h.fdatasync()),
        truncate: (l) => traced(`truncate ${path} to ${l}`, () => h.truncate(l)),
        stat: () => traced(`fstat ${path}`, () => h.stat()),
        close: () => traced(`close ${path}`, () => h.close()),
      };
      if (h.pwritev) handle.pwritev = (bs, p) => traced(`pwritev ${path} @${p} x${bs.length}`, () => h.pwritev!(bs, p));
      return handle;
    },
    rename: (from, to) => traced(`rename ${from} -> ${to}`, () => inner.rename(from, to)),
    unlink: (path) => traced(`unlink ${path}`, () => inner.unlink(path)),
    readdir: (path) => traced(`readdir ${path}`, () => inner.readdir(path)),
    mkdir: (path, opts) => traced(`mkdir ${path}`, () => inner.mkdir(path, opts)),
    stat: (path) => traced(`stat ${path}`, () => inner.stat(path)),
    rmTree: (path) => traced(`rmTree ${path}`, () => inner.rmTree(path)),
    syncDir: (path) => traced(`syncDir ${path}`, () => inner.syncDir(path)),
    report(root?: string) {
      const now = performance.now();
      const short = (s: string) => (root ? s.split(`${root}/`).join('') : s);
      const pending = [...inFlight.values()].map(({ what, at }) => `  ${short(what)}: for ${(now - at).toFixed(0)} ms`);
      return [
        `file system calls in flight: ${pending.length}${pending.length ? '' : ' (none: a wait now is on a promise, not on the disk)'}`,
        ...pending,
        `the last ${finished.length} finished (of ${next}, times from the first call):`,
        ...finished.map((f) => `  ${short(f)}`),
      ].join('\n');
    },
  };
}
