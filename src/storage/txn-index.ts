// The transaction index: `<base>.txnindex` beside a segment, one entry per aborted transaction whose
// ABORT marker lies in that segment, in Kafka's layout (34 bytes, big-endian):
//   version int16 (0) | producerId int64 | firstOffset int64 | lastOffset int64 | lastStableOffset int64
// firstOffset is the transaction's first record here, lastOffset its marker, lastStableOffset the
// log's first unstable offset once the transaction completed (every later entry has one at least as
// large, which is what lets a read_committed fetch stop scanning). The entries live in one Buffer,
// the file's bytes, mirrored with positional writes; the file is created with the first entry (a
// segment without aborted transactions has none, as in Kafka). Like the other indexes it is derived
// from the log: recovery rebuilds it from the batch headers (producer-snapshots.ts).
import { readInt64, writeInt64 } from './batch-scan.js';
import { EntryFile, type EntryFileLoad } from './entry-file.js';
import { type FileSystem, isNotFound } from './file-system.js';

export const TXN_INDEX_ENTRY_SIZE = 34;
const VERSION = 0;

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
  lastStableOffset: number;
}

/** What a read_committed fetch answers per aborted transaction (Fetch's AbortedTransaction). */
export interface AbortedRange {
  producerId: number;
  firstOffset: number;
}

export type TxnIndexLoad = EntryFileLoad;

export class TransactionIndex extends EntryFile {
  /** Set by the loader while recovery regenerates the entries (producer-snapshots.ts writes them). */
  rebuilding = false;

  constructor(fs: FileSystem, path: string, baseOffset: number) {
    super(fs, path, baseOffset, TXN_INDEX_ENTRY_SIZE, 0);
  }

  /** A new segment's index: no file until the first entry. */
  markNew(): void {
    this.fileBytes = 0;
  }

  /** An index never persisted need not exist: an unknown file length is not a reason to write. */
  override get dirty(): boolean {
    return this.persisted !== this.count || (this.fileBytes !== this.count * TXN_INDEX_ENTRY_SIZE && this.fileBytes !== -1) || this.unsynced;
  }

  entryAt(i: number): AbortedTxn {
    const at = i * TXN_INDEX_ENTRY_SIZE;
    const b = this.buf;
    return { producerId: readInt64(b, at + 2), firstOffset: readInt64(b, at + 10), lastOffset: readInt64(b, at + 18), lastStableOffset: readInt64(b, at + 26) };
  }

  private lastOffsetAt(i: number): number {
    return readInt64(this.buf, i * TXN_INDEX_ENTRY_SIZE + 18);
  }

  /** Every entry, oldest first (for tools, tests and the cleaner). */
  all(): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.entryAt(i));
    return out;
  }

  /** The raw entries (the file's content), e.g. for the cleaner to carry into a cleaned segment. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.count * TXN_INDEX_ENTRY_SIZE);
  }

  /** Adds an aborted transaction; markers come in offset order, so lastOffset never goes back. */
  append(txn: AbortedTxn): void {
    if (this.count > 0 && txn.lastOffset < this.lastOffsetAt(this.count - 1)) {
      throw new Error(`aborted transaction ending at ${txn.lastOffset} appended after one ending at ${this.lastOffsetAt(this.count - 1)} in ${this.path}`);
    }
    const at = this.slot();
    this.buf.writeInt16BE(VERSION, at);
    writeInt64(this.buf, at + 2, txn.producerId);
    writeInt64(this.buf, at + 10, txn.firstOffset);
    writeInt64(this.buf, at + 18, txn.lastOffset);
    writeInt64(this.buf, at + 26, txn.lastStableOffset);
  }

  /**
   * Kafka's collectAbortedTxns: the transactions aborted at or after `fetchOffset` that began before
   * `upperBoundOffset` go to `out`. Returns true once an entry's last stable offset reaches the upper
   * bound: no later segment can hold a transaction that began below it.
   */
  collect(fetchOffset: number, upperBoundOffset: number, out: AbortedRange[]): boolean {
    const b = this.buf;
    for (let i = 0, at = 0; i < this.count; i++, at += TXN_INDEX_ENTRY_SIZE) {
      const firstOffset = readInt64(b, at + 10);
      if (readInt64(b, at + 18) >= fetchOffset && firstOffset < upperBoundOffset) out.push({ producerId: readInt64(b, at + 2), firstOffset });
      if (readInt64(b, at + 26) >= upperBoundOffset) return true;
    }
    return false;
  }

  /** Drops the entries of transactions whose marker is at or after `offset` (the log was cut there). */
  truncateTo(offset: number): void {
    let n = this.count;
    while (n > 0 && this.lastOffsetAt(n - 1) >= offset) n--;
    this.truncateEntries(n);
  }

  /** Reads the file; a missing file is an index without entries. */
  override async load(): Promise<TxnIndexLoad> {
    const loaded = await super.load();
    if (loaded === 'missing') {
      this.fileBytes = 0;
      this.count = this.persisted = 0;
    }
    return loaded;
  }

  /** Entries of this segment: version 0, first <= last, markers inside [base, nextOffset) in order. */
  isPlausible(nextOffset: number): boolean {
    let prev = -1;
    for (let i = 0; i < this.count; i++) {
      const at = i * TXN_INDEX_ENTRY_SIZE;
      const e = this.entryAt(i);
      if (this.buf.readInt16BE(at) !== VERSION) return false;
      if (e.producerId < 0 || e.firstOffset < 0 || e.firstOffset > e.lastOffset || e.lastOffset < prev) return false;
      if (e.lastOffset < this.baseOffset || e.lastOffset >= nextOffset || e.lastStableOffset <= e.firstOffset) return false;
      prev = e.lastOffset;
    }
    return true;
  }

  /** Writes entries not yet in the file (creating it with the first), trims the rest, optionally fdatasyncs. */
  protected override async persistNow(sync: boolean): Promise<void> {
    const target = this.count * TXN_INDEX_ENTRY_SIZE;
    if (this.fileBytes === 0 && target === 0) {
      if (!this.keepOpen) await this.closeHandle();
      return;
    }
    if (this.fileBytes === -1 && target === 0) {
      // Unknown file, nothing to say: trim one if it exists, never create it.
      try {
        const fh = this.handle ?? (this.handle = await this.fs.open(this.path, 'r+'));
        await fh.truncate(0);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.fileBytes = 0;
      if (!this.keepOpen) await this.closeHandle();
      return;
    }
    await super.persistNow(sync);
  }
}

interface Logger {
  warn(message: string): void;
}

/**
 * Notes the transactions an append's ABORT markers ended in the index of the segment holding the
 * markers, and writes them out. The records are in the log already: a failed write is logged and
 * retried by the segment's next flush (the entries stay in memory, where reads find them).
 */
export async function indexAborted(seg: { txnIndex: TransactionIndex; baseOffset: number }, aborted: readonly AbortedTxn[], logger: Logger, name: string): Promise<void> {
  for (const txn of aborted) seg.txnIndex.append(txn);
  await seg.txnIndex.persist(false).catch((err) => logger.warn(`[${name}] writing the transaction index of segment ${seg.baseOffset} failed (the next flush retries): ${String(err)}`));
}
