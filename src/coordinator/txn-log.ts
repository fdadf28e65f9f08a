// The transaction log: every write is appended here and fdatasync'd before anyone hears of it.
//
// Files are `log.<first zxid, hex>` (as ZooKeeper names them) and start with an 8-byte header,
// `KTSL` + format version. Each record is `int32 length, uint32 crc32c(payload), payload` where
// the payload is the jute TxnHeader + Txn. Files are preallocated with zeros in 16 MiB steps,
// so a steady-state fdatasync does not have to update the file size; a zero length therefore
// marks the end of the written part.
//
// Group commit: appends made while a write+fdatasync is in flight are collected and go out
// together in the next one, so N concurrent writers share one fdatasync instead of N. With
// forceSync the file is opened O_DSYNC, so that write is one system call (one thread-pool round
// trip instead of two: measurably shorter for one-at-a-time writers).
import { constants } from 'node:fs';
import { type FileHandle, open, readdir, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JuteError, JuteReader, JuteWriter } from '../protocol/zookeeper/index.js';
import { type Txn, type TxnHeader, readTxn, readTxnHeader, writeTxn, writeTxnHeader } from './txn.js';
import { checksum, fsyncDir } from './files.js';

export const LOG_MAGIC = Buffer.from('KTSL\0\0\0\x01', 'latin1');
const RECORD_OVERHEAD = 8;
export const PREALLOC_BYTES = 16 << 20;
const ZEROS = Buffer.alloc(1 << 20);

export interface LogFileInfo {
  path: string;
  startZxid: number;
}

export interface LogRecord {
  header: TxnHeader;
  txn: Txn;
}

export async function listLogFiles(dir: string): Promise<LogFileInfo[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => /^log\.[0-9a-f]+$/.test(n))
    .map((n) => ({ path: join(dir, n), startZxid: parseInt(n.slice(4), 16) }))
    .sort((a, b) => a.startZxid - b.startZxid);
}

export interface ReadLogResult {
  records: LogRecord[];
  /** Byte offset just past the last valid record. */
  validEnd: number;
  /** True when bytes after validEnd were not just preallocated zeros (a torn or corrupt tail). */
  corrupt: boolean;
  reason?: string;
}

/** Parses a log file, stopping at the end of the written part or at the first bad record. */
export async function readLogFile(path: string, afterZxid = -1, prevZxid = -1): Promise<ReadLogResult> {
  const buf = await readFile(path);
  const records: LogRecord[] = [];
  if (buf.length < LOG_MAGIC.length) return { records, validEnd: 0, corrupt: buf.length > 0, reason: 'short header' };
  if (!buf.subarray(0, LOG_MAGIC.length).equals(LOG_MAGIC)) return { records, validEnd: 0, corrupt: true, reason: 'bad magic' };
  let pos = LOG_MAGIC.length;
  let last = prevZxid;
  while (pos + RECORD_OVERHEAD <= buf.length) {
    const len = buf.readInt32BE(pos);
    if (len === 0 && buf.readUInt32BE(pos + 4) === 0) {
      const rest = buf.subarray(pos);
      if (rest.every((b) => b === 0)) return { records, validEnd: pos, corrupt: false };
      return { records, validEnd: pos, corrupt: true, reason: `non-zero bytes after the end at ${pos}` };
    }
    if (len <= 0 || pos + RECORD_OVERHEAD + len > buf.length) return { records, validEnd: pos, corrupt: true, reason: `bad record length ${len} at ${pos}` };
    const start = pos + RECORD_OVERHEAD;
    if (checksum(buf, start, start + len) !== buf.readUInt32BE(pos + 4)) return { records, validEnd: pos, corrupt: true, reason: `checksum mismatch at ${pos}` };
    let rec: LogRecord;
    try {
      const r = new JuteReader(buf, start, start + len);
      rec = { header: readTxnHeader(r), txn: readTxn(r) };
      if (r.remaining !== 0) throw new JuteError('trailing bytes');
    } catch (e) {
      return { records, validEnd: pos, corrupt: true, reason: `undecodable record at ${pos}: ${(e as Error).message}` };
    }
    if (rec.header.zxid <= last) return { records, validEnd: pos, corrupt: true, reason: `zxid ${rec.header.zxid} not after ${last} at ${pos}` };
    last = rec.header.zxid;
    if (rec.header.zxid > afterZxid) records.push(rec);
    pos = start + len;
  }
  const tail = buf.subarray(pos);
  return tail.every((b) => b === 0) ? { records, validEnd: pos, corrupt: false } : { records, validEnd: pos, corrupt: true, reason: `torn record at ${pos}` };
}

/** Cuts a file at `validEnd` (dropping a torn tail), keeping a copy of what was cut for forensics. */
export async function truncateLogFile(path: string, validEnd: number): Promise<void> {
  const buf = await readFile(path);
  await writeFile(`${path}.corrupt-tail`, buf.subarray(validEnd));
  await truncate(path, Math.max(validEnd, LOG_MAGIC.length));
  if (validEnd < LOG_MAGIC.length) {
    const fh = await open(path, 'r+');
    try {
      await fh.write(LOG_MAGIC, 0, LOG_MAGIC.length, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

/** Moves a log file out of the way (it follows a corrupt one, so it cannot be replayed). */
export async function setAsideLogFile(path: string): Promise<void> {
  await rename(path, `${path}.corrupt`);
}

export interface TxnLogOptions {
  dir: string;
  /** fdatasync before acknowledging (zookeeper.forceSync); default true. */
  forceSync?: boolean;
  preallocateBytes?: number;
  /** Called after each group commit with the highest durable zxid. */
  onDurable: (zxid: number) => void;
  /** A failed write or fsync: nothing after it can be acknowledged. */
  onError: (err: Error) => void;
}

export class TxnLog {
  private fh: FileHandle | null = null;
  private filePath = '';
  private filePos = 0;
  private allocated = 0;
  private pending = new JuteWriter(64 * 1024);
  private pendingLast = -1;
  private scheduled = false;
  private flushing: Promise<void> | null = null;
  private rollRequested = true;
  private failed: Error | null = null;
  private closed = false;
  durableZxid: number;
  /** Records appended since the log was opened (for snapshot scheduling). */
  appended = 0;
  /** fdatasyncs performed and records they covered (mntr's batch size). */
  syncs = 0;
  synced = 0;

  constructor(
    private readonly opts: TxnLogOptions,
    lastZxid: number,
  ) {
    this.durableZxid = lastZxid;
  }

  /** Queues a record; it becomes durable at the next group commit. */
  append(header: TxnHeader, txn: Txn): void {
    if (this.failed) throw this.failed;
    if (this.closed) throw new Error('transaction log is closed');
    const w = this.pending;
    const at = w.pos;
    w.int(0).int(0);
    writeTxnHeader(w, header);
    writeTxn(w, txn);
    const len = w.pos - at - RECORD_OVERHEAD;
    w.buf.writeInt32BE(len, at);
    w.buf.writeUInt32BE(checksum(w.buf, at + RECORD_OVERHEAD, w.pos), at + 4);
    this.pendingLast = header.zxid;
    this.appended++;
    if (!this.scheduled && !this.flushing) {
      this.scheduled = true;
      // Let every request already read in this turn of the event loop join the batch.
      setImmediate(() => this.startFlush());
    }
  }

  /** The next batch goes into a new file (after a snapshot). */
  roll(): void {
    this.rollRequested = true;
  }

  /** Resolves once everything appended so far is durable (or the log failed). */
  async drain(): Promise<void> {
    while (this.flushing || this.scheduled || this.pending.pos > 0) {
      if (this.failed) return;
      if (!this.flushing) this.startFlush();
      await this.flushing;
    }
  }

  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    await this.fh?.close();
    this.fh = null;
  }

  private startFlush(): void {
    this.scheduled = false;
    if (this.flushing || this.failed) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = null;
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.pos > 0) {
        const batch = this.pending;
        const last = this.pendingLast;
        const firstZxid = batch.buf.readBigInt64BE(RECORD_OVERHEAD + 8 + 4);
        this.pending = new JuteWriter(Math.max(64 * 1024, batch.buf.length));
        if (this.rollRequested || !this.fh) await this.openFile(Number(firstZxid));
        const bytes = batch.bytes();
        if (this.filePos + bytes.length > this.allocated) await this.preallocate(null, this.filePos + bytes.length);
        let off = 0;
        while (off < bytes.length) {
          const { bytesWritten } = await this.fh!.write(bytes, off, bytes.length - off, this.filePos + off);
          off += bytesWritten;
        }
        this.filePos += bytes.length;
        this.syncs++;
        this.synced += countRecords(bytes);
        this.durableZxid = last;
        this.opts.onDurable(last);
      }
    } catch (e) {
      this.failed = e as Error;
      this.opts.onError(this.failed);
    }
  }

  private async openFile(startZxid: number): Promise<void> {
    if (this.fh) await this.fh.close();
    this.fh = null;
    const path = join(this.opts.dir, `log.${startZxid.toString(16)}`);
    this.filePath = path;
    const init = await open(path, 'w');
    try {
      await init.write(LOG_MAGIC, 0, LOG_MAGIC.length, 0);
      this.filePos = LOG_MAGIC.length;
      this.allocated = 0;
      await this.preallocate(init, this.filePos);
    } finally {
      await init.close();
    }
    await fsyncDir(this.opts.dir);
    const sync = this.opts.forceSync !== false ? constants.O_DSYNC : 0;
    this.fh = await open(path, constants.O_WRONLY | sync);
    this.rollRequested = false;
  }

  /**
   * Zero-fills up to the next multiple of the preallocation step past `needed` and fsyncs (file
   * size included), through a handle without O_DSYNC so the zeros go out in one flush.
   */
  private async preallocate(handle: FileHandle | null, needed: number): Promise<void> {
    const fh = handle ?? (await open(this.filePath, 'r+'));
    try {
      const step = this.opts.preallocateBytes ?? PREALLOC_BYTES;
      const target = Math.ceil(needed / step) * step;
      for (let at = Math.max(this.allocated, this.filePos); at < target; ) {
        const { bytesWritten } = await fh.write(ZEROS, 0, Math.min(ZEROS.length, target - at), at);
        at += bytesWritten;
      }
      this.allocated = target;
      await fh.sync();
    } finally {
      if (!handle) await fh.close();
    }
  }
}

function countRecords(bytes: Buffer): number {
  let n = 0;
  for (let pos = 0; pos < bytes.length; pos += RECORD_OVERHEAD + bytes.readInt32BE(pos)) n++;
  return n;
}
