// What the cleaner must know about transactions (Kafka's CleanedTransactionMetadata):
//  - the aborted transactions (producer id, first offset, offset of the ABORT marker): their data
//    batches stay out of the offset map and are dropped by the cleaning;
//  - a COMMIT marker may go once no batch of its transaction is met any more in a cleaning pass
//    (they were all cleaned away); an ABORT marker once none of its aborted batches is met. Such a
//    marker first gets a delete horizon (now + delete.retention.ms) and goes in a cleaning after it.
// The aborted transactions come from a header-only pass over the log (the markers' types from their
// control records), which is what Kafka's .txnindex files record per segment.
import { BATCH_HEADER_SIZE, BatchOffset } from '../../protocol/records/batch-header.js';
import { Attr } from '../../protocol/records/batch-header.js';
import { attributesAt, baseOffsetAt, batchSizeAt, readInt64 } from '../batch-scan.js';
import type { LogSegment } from '../log-segment.js';
import type { PartitionLog } from '../partition-log.js';
import { type BatchInfo, forEachRecord, plainRecords } from './batch-filter.js';

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

const CONTROL_ABORT = 0;
const CONTROL_COMMIT = 1;

/** The type of the control record of a control batch (ABORT 0, COMMIT 1), or -1 when it has none. */
export function controlTypeOf(batch: Buffer, pos: number, count: number, baseOffset: number): number {
  if (count <= 0) return -1;
  let type = -1;
  const plain = plainRecords(batch, pos, 1 << 20);
  forEachRecord(plain, 1, baseOffset, 0, -1, (r) => {
    if (r.keyStart >= 0 && r.keyEnd - r.keyStart >= 4) type = r.buf.readInt16BE(r.keyStart + 2);
  });
  return type;
}

/** Aborted transactions of the log, in order of their first offset. */
export class TransactionFilter {
  private constructor(private readonly aborted: readonly AbortedTxn[]) {}

  /** Scans the batch headers of the whole log up to its high watermark (markers may lie past `to`). */
  static async forLog(log: PartitionLog, sealed: readonly LogSegment[], _from: number, _to: number, opts: { checkDone?: () => void }): Promise<TransactionFilter> {
    const scan = new AbortScan();
    for (const seg of sealed) {
      opts.checkDone?.();
      const controls: Array<{ position: number; size: number }> = [];
      const events: Array<{ control: boolean; producerId: number; baseOffset: number; lastOffset: number; position: number; size: number }> = [];
      seg.pin();
      try {
        await seg.forEachBatchHeader((buf, at, position) => {
          const attributes = attributesAt(buf, at);
          if (!(attributes & Attr.transactional)) return;
          const control = (attributes & Attr.control) !== 0;
          const baseOffset = baseOffsetAt(buf, at);
          const event = {
            control,
            producerId: readInt64(buf, at + BatchOffset.producerId),
            baseOffset,
            lastOffset: baseOffset + buf.readInt32BE(at + BatchOffset.lastOffsetDelta),
            position,
            size: batchSizeAt(buf, at),
          };
          events.push(event);
          if (control) controls.push({ position, size: event.size });
        });
        for (const e of events) {
          if (!e.control) scan.data(e.producerId, e.baseOffset);
          else {
            const batch = await seg.read(e.position, e.size);
            scan.marker(e.producerId, e.lastOffset, controlTypeOf(batch, 0, batch.readInt32BE(BatchOffset.recordCount), e.baseOffset));
          }
        }
      } finally {
        seg.unpin();
      }
    }
    // The active segment, below the high watermark: through reads, as a consumer would.
    const bases = log.segmentBaseOffsets();
    let offset = Math.max(bases[bases.length - 1], log.logStartOffset);
    while (offset < log.highWatermark) {
      const { records } = await log.read(offset, 1 << 20);
      if (records.length === 0) break;
      for (let p = 0; p + BATCH_HEADER_SIZE <= records.length; p += batchSizeAt(records, p)) {
        const attributes = attributesAt(records, p);
        const base = baseOffsetAt(records, p);
        offset = base + records.readInt32BE(p + BatchOffset.lastOffsetDelta) + 1;
        if (!(attributes & Attr.transactional)) continue;
        const producerId = readInt64(records, p + BatchOffset.producerId);
        if (attributes & Attr.control) scan.marker(producerId, offset - 1, controlTypeOf(records, p, records.readInt32BE(p + BatchOffset.recordCount), base));
        else scan.data(producerId, base);
      }
    }
    return new TransactionFilter(scan.aborted.sort((a, b) => a.firstOffset - b.firstOffset));
  }

  /**
   * For a pass from `start`: check(batch) says whether the batch may be discarded (Kafka's
   * shouldDiscardBatch): a data batch of an aborted transaction, a marker no batch of whose
   * transaction was met. Only the transactions that end at or after `start` count.
   */
  pass(start = 0): TxnCheck {
    const state = new CleaningState(start > 0 ? this.aborted.filter((t) => t.lastOffset >= start) : this.aborted);
    return {
      check: (info, buf, at) => (info.isControl ? state.onControl(info, buf, at) : state.onBatch(info)),
    };
  }
}

export interface TxnCheck {
  check(info: BatchInfo, buf: Buffer, at: number): boolean;
}

/** Builds the aborted-transaction list from transactional batches and markers met in offset order. */
class AbortScan {
  readonly aborted: AbortedTxn[] = [];
  private readonly open = new Map<number, number>();

  data(producerId: number, baseOffset: number): void {
    if (!this.open.has(producerId)) this.open.set(producerId, baseOffset);
  }

  marker(producerId: number, offset: number, type: number): void {
    const first = this.open.get(producerId);
    this.open.delete(producerId);
    if (type === CONTROL_ABORT && first !== undefined) this.aborted.push({ producerId, firstOffset: first, lastOffset: offset });
  }
}

/** Kafka's CleanedTransactionMetadata, walked in offset order over one pass. */
class CleaningState {
  private next = 0;
  private readonly ongoingCommitted = new Set<number>();
  /** Producer id -> whether a batch of its ongoing aborted transaction was met. */
  private readonly ongoingAborted = new Map<number, boolean>();

  constructor(private readonly aborted: readonly AbortedTxn[]) {}

  private consumeUpTo(offset: number): void {
    while (this.next < this.aborted.length && this.aborted[this.next].firstOffset <= offset) {
      this.ongoingAborted.set(this.aborted[this.next].producerId, false);
      this.next++;
    }
  }

  /** A data batch: true when it belongs to an aborted transaction. */
  onBatch(info: BatchInfo): boolean {
    this.consumeUpTo(info.lastOffset);
    if (!info.isTransactional) return false;
    if (this.ongoingAborted.has(info.producerId)) {
      this.ongoingAborted.set(info.producerId, true);
      return true;
    }
    this.ongoingCommitted.add(info.producerId);
    return false;
  }

  /** A marker: true when no batch of its transaction was met in this pass (it may go). */
  onControl(info: BatchInfo, buf: Buffer, at: number): boolean {
    this.consumeUpTo(info.lastOffset);
    const type = controlTypeOf(buf, at, info.recordCount, info.baseOffset);
    if (type === CONTROL_ABORT) {
      const met = this.ongoingAborted.get(info.producerId);
      this.ongoingAborted.delete(info.producerId);
      return met !== true;
    }
    if (type === CONTROL_COMMIT) return !this.ongoingCommitted.delete(info.producerId);
    return false;
  }
}
