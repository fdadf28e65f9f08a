// Idempotent producers, per partition (Kafka's ProducerStateManager / ProducerAppendInfo, in our
// words). For each producer id we keep its epoch and the metadata of its last 5 batches (sequence
// range and offsets), which is what a producer may have in flight (max.in.flight <= 5):
//  - same epoch, firstSeq = lastSeq + 1 (int32 wraps to 0)            -> append
//  - same epoch, exactly the sequence range of a retained batch       -> duplicate: nothing is written
//    and the caller answers SUCCESS with the original offsets (Kafka 3.x does not send
//    DUPLICATE_SEQUENCE_NUMBER for these)
//  - same epoch, anything else                                        -> OUT_OF_ORDER_SEQUENCE_NUMBER
//  - older epoch                                                      -> INVALID_PRODUCER_EPOCH
//  - newer epoch: sequence must restart at 0                          -> else OUT_OF_ORDER_SEQUENCE_NUMBER
//  - a producer this partition has no state for: any sequence (Kafka 3.x since KIP-360: its state may
//    have gone with retention or DeleteRecords)
// The state is rebuilt on load from the newest `<offset>.snapshot` (Kafka's v1 snapshot layout:
// version, CRC-32C, then per producer id, epoch, last sequence, last offset, offset delta,
// timestamp, coordinator epoch, txn first offset) plus the batch headers after that offset.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { Attr, BATCH_HEADER_SIZE, BatchOffset, LOG_OVERHEAD } from '../protocol/records/batch-header.js';
import { crc32c } from '../protocol/records/crc.js';
import { readInt64, writeInt64 } from './batch-scan.js';

export const BATCHES_RETAINED = 5;
/** Kafka's producer.id.expiration.ms default. */
export const PRODUCER_ID_EXPIRATION_MS = 86_400_000;
const INT32_MAX = 0x7fffffff;
const SNAPSHOT_VERSION = 1;
const ENTRY_SIZE = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;
const SNAPSHOT_HEADER = 2 + 4 + 4;

export interface ProducerBatch {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerEntry {
  producerId: number;
  epoch: number;
  /** Oldest first, at most BATCHES_RETAINED. */
  batches: ProducerBatch[];
}

/** The idempotence fields of a magic-2 batch header. */
export interface ProducerBatchHeader {
  producerId: number;
  epoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
  isControl: boolean;
}

export function producerHeaderAt(buf: Buffer, pos: number): ProducerBatchHeader {
  return {
    producerId: readInt64(buf, pos + BatchOffset.producerId),
    epoch: buf.readInt16BE(pos + BatchOffset.producerEpoch),
    baseSequence: buf.readInt32BE(pos + BatchOffset.baseSequence),
    lastOffsetDelta: buf.readInt32BE(pos + BatchOffset.lastOffsetDelta),
    isControl: (buf.readInt16BE(pos + BatchOffset.attributes) & Attr.control) !== 0,
  };
}

/** The last sequence of a batch: sequences wrap from INT32_MAX to 0. */
function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  const last = baseSequence + lastOffsetDelta;
  return last > INT32_MAX ? last - INT32_MAX - 1 : last;
}

const inSequence = (lastSeq: number, nextSeq: number) => nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerEntry>();

  get size(): number {
    return this.producers.size;
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  entries(): IterableIterator<ProducerEntry> {
    return this.producers.values();
  }

  /**
   * Checks a client's payload (whole magic-2 batches) before it is written; changes nothing.
   * Returns the retained batch a single idempotent batch duplicates, or null to append. Throws
   * OUT_OF_ORDER_SEQUENCE_NUMBER / INVALID_PRODUCER_EPOCH.
   */
  checkAppend(buf: Buffer): ProducerBatch | null {
    // Within one payload a later batch sees the earlier ones (produce v3+ sends one batch anyway).
    let pending: Map<number, { epoch: number; lastSeq: number | null }> | undefined;
    let batches = 0;
    for (let p = 0; p + BATCH_HEADER_SIZE <= buf.length; p += LOG_OVERHEAD + buf.readInt32BE(p + BatchOffset.batchLength)) {
      batches++;
      const h = producerHeaderAt(buf, p);
      if (h.producerId < 0 || h.isControl) continue;
      const firstSeq = h.baseSequence;
      const lastSeq = lastSequence(firstSeq, h.lastOffsetDelta);
      const current = this.producers.get(h.producerId);
      const seen = pending?.get(h.producerId);
      const epoch = seen ? seen.epoch : (current?.epoch ?? -1);
      const lastSeqNow = seen ? seen.lastSeq : current && current.batches.length > 0 ? current.batches[current.batches.length - 1].lastSeq : null;
      if (!seen && current && h.epoch === current.epoch && batches === 1) {
        const dup = current.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
        if (dup && p + LOG_OVERHEAD + buf.readInt32BE(p + BatchOffset.batchLength) === buf.length) return dup;
      }
      if (epoch >= 0 && h.epoch < epoch) {
        throw new KafkaError(
          ErrorCode.INVALID_PRODUCER_EPOCH,
          `producer ${h.producerId}'s epoch ${h.epoch} is older than the current epoch ${epoch}`,
        );
      }
      if (h.epoch !== epoch) {
        if (firstSeq !== 0 && epoch >= 0) {
          throw new KafkaError(
            ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
            `producer ${h.producerId}'s new epoch ${h.epoch} starts at sequence ${firstSeq}, not 0`,
          );
        }
      } else if (lastSeqNow !== null && !inSequence(lastSeqNow, firstSeq)) {
        throw new KafkaError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `out of order sequence number for producer ${h.producerId}: ${firstSeq} (incoming seq. number), ${lastSeqNow} (current end sequence number)`,
        );
      }
      (pending ??= new Map()).set(h.producerId, { epoch: h.epoch, lastSeq });
    }
    return null;
  }

  /** Records the batches of `buf` (offsets assigned), after they are in the log or found in it on load. */
  update(buf: Buffer, start = 0, end = buf.length): void {
    for (let p = start; p + BATCH_HEADER_SIZE <= end; p += LOG_OVERHEAD + buf.readInt32BE(p + BatchOffset.batchLength)) {
      this.updateAt(buf, p);
    }
  }

  /** Records one batch from its header (only the 61-byte header needs to be in `buf`). */
  updateAt(buf: Buffer, p: number): void {
    const h = producerHeaderAt(buf, p);
    if (h.producerId < 0 || h.isControl) return;
    const firstOffset = readInt64(buf, p + BatchOffset.baseOffset);
    this.add(h.producerId, h.epoch, {
      firstSeq: h.baseSequence,
      lastSeq: lastSequence(h.baseSequence, h.lastOffsetDelta),
      firstOffset,
      lastOffset: firstOffset + h.lastOffsetDelta,
      timestamp: readInt64(buf, p + BatchOffset.maxTimestamp),
    });
  }

  private add(producerId: number, epoch: number, batch: ProducerBatch): void {
    let entry = this.producers.get(producerId);
    if (!entry) {
      entry = { producerId, epoch, batches: [] };
      this.producers.set(producerId, entry);
    }
    if (entry.epoch !== epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    entry.batches.push(batch);
    if (entry.batches.length > BATCHES_RETAINED) entry.batches.shift();
  }

  clear(): void {
    this.producers.clear();
  }

  /**
   * Forgets producers whose last batch is older than `maxAgeMs` (Kafka's producer.id.expiration.ms,
   * one day by default), so short-lived producers do not pile up. Returns how many went.
   */
  expire(now: number, maxAgeMs = PRODUCER_ID_EXPIRATION_MS): number {
    let removed = 0;
    for (const [id, e] of this.producers) {
      const last = e.batches[e.batches.length - 1];
      if (!last || now - last.timestamp > maxAgeMs) {
        this.producers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  // ---- snapshots ----

  /** Kafka's v1 snapshot: the last batch of every producer. */
  serialize(): Buffer {
    const entries = [...this.producers.values()].filter((e) => e.batches.length > 0);
    const buf = Buffer.alloc(SNAPSHOT_HEADER + entries.length * ENTRY_SIZE);
    buf.writeInt16BE(SNAPSHOT_VERSION, 0);
    buf.writeInt32BE(entries.length, 6);
    let p = SNAPSHOT_HEADER;
    for (const e of entries) {
      const last = e.batches[e.batches.length - 1];
      writeInt64(buf, p, e.producerId);
      buf.writeInt16BE(e.epoch, p + 8);
      buf.writeInt32BE(last.lastSeq, p + 10);
      writeInt64(buf, p + 14, last.lastOffset);
      buf.writeInt32BE(last.lastOffset - last.firstOffset, p + 22);
      writeInt64(buf, p + 26, last.timestamp);
      buf.writeInt32BE(-1, p + 34); // coordinator epoch: no transactions
      writeInt64(buf, p + 38, -1); // first offset of an open transaction: none
      p += ENTRY_SIZE;
    }
    buf.writeUInt32BE(crc32c(buf, 6, buf.length), 2);
    return buf;
  }

  /** Replaces the state with a snapshot's; throws on a damaged snapshot. */
  load(buf: Buffer): void {
    if (buf.length < SNAPSHOT_HEADER) throw new Error('producer snapshot truncated');
    const version = buf.readInt16BE(0);
    if (version !== SNAPSHOT_VERSION) throw new Error(`producer snapshot version ${version} is not supported`);
    if (buf.readUInt32BE(2) !== crc32c(buf, 6, buf.length)) throw new Error('producer snapshot CRC mismatch');
    const count = buf.readInt32BE(6);
    if (count < 0 || SNAPSHOT_HEADER + count * ENTRY_SIZE !== buf.length) throw new Error('producer snapshot size mismatch');
    this.producers.clear();
    let p = SNAPSHOT_HEADER;
    for (let i = 0; i < count; i++, p += ENTRY_SIZE) {
      const lastSeq = buf.readInt32BE(p + 10);
      const lastOffset = readInt64(buf, p + 14);
      const delta = buf.readInt32BE(p + 22);
      const firstSeq = lastSeq - delta < 0 ? lastSeq - delta + INT32_MAX + 1 : lastSeq - delta;
      this.add(readInt64(buf, p), buf.readInt16BE(p + 8), {
        firstSeq,
        lastSeq,
        firstOffset: lastOffset - delta,
        lastOffset,
        timestamp: readInt64(buf, p + 26),
      });
    }
  }
}

const SNAPSHOT_FILE = /^(\d{20})\.snapshot$/;

export function snapshotFileName(offset: number): string {
  return `${String(offset).padStart(20, '0')}.snapshot`;
}

/** The offset a snapshot file name stands for, or -1. */
export function parseSnapshotFileName(name: string): number {
  const m = SNAPSHOT_FILE.exec(name);
  if (!m) return -1;
  const offset = Number(m[1]);
  return Number.isSafeInteger(offset) ? offset : -1;
}
