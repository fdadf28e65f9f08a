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
// Transactions (KIP-98): a producer's first transactional batch opens its transaction here (its
// offset is the transaction's first offset); its COMMIT/ABORT control batch closes it. The open
// transactions hold the last stable offset (LSO) back: read_committed consumers read below
// min(first offset of every open transaction, high watermark). A closed transaction whose marker the
// high watermark has not passed yet still counts (Kafka's unreplicated transactions). Each ABORT
// that closes a transaction with records here yields the transaction index entry (txn-index.ts).
// The state is rebuilt on load from the newest `<offset>.snapshot` (Kafka's v1 snapshot layout:
// version, CRC-32C, then per producer id, epoch, last sequence, last offset, offset delta,
// timestamp, coordinator epoch, txn first offset) plus the batch headers after that offset.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { Attr, BATCH_HEADER_SIZE, BatchOffset, LOG_OVERHEAD } from '../protocol/records/batch-header.js';
import { ControlType } from '../protocol/records/control-batch.js';
import { crc32c } from '../protocol/records/crc.js';
import { readVarint, readVarlong } from '../protocol/records/varint.js';
import { readInt64, writeInt64 } from './batch-scan.js';
import type { AbortedTxn } from './txn-index.js';

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
  /** The epoch of the transaction coordinator that wrote this producer's last marker, -1 before any. */
  coordinatorEpoch: number;
  /** The first offset of the producer's open transaction, -1 when none is open. */
  currentTxnFirstOffset: number;
  /** The newest timestamp of its batches or markers (producer.id.expiration.ms counts from it). */
  lastTimestamp: number;
}

/** A transaction a control batch ended, before the high watermark passed its marker. */
interface UnreplicatedTxn {
  firstOffset: number;
  lastOffset: number;
}

/** The idempotence fields of a magic-2 batch header. */
export interface ProducerBatchHeader {
  producerId: number;
  epoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
  isControl: boolean;
  isTransactional: boolean;
}

export function producerHeaderAt(buf: Buffer, pos: number): ProducerBatchHeader {
  return {
    producerId: readInt64(buf, pos + BatchOffset.producerId),
    epoch: buf.readInt16BE(pos + BatchOffset.producerEpoch),
    baseSequence: buf.readInt32BE(pos + BatchOffset.baseSequence),
    lastOffsetDelta: buf.readInt32BE(pos + BatchOffset.lastOffsetDelta),
    isControl: (buf.readInt16BE(pos + BatchOffset.attributes) & Attr.control) !== 0,
    isTransactional: (buf.readInt16BE(pos + BatchOffset.attributes) & Attr.transactional) !== 0,
  };
}

/** The end-transaction marker of a control batch: its type (ControlType) and coordinator epoch. */
export interface EndTxnMarker {
  type: number;
  coordinatorEpoch: number;
}

/**
 * Reads the first record of the (uncompressed) control batch at `pos`: key = version int16, type
 * int16; value = version int16, coordinator epoch int32. Null when the bytes are not all there or
 * do not parse (a control batch of a kind this broker does not know).
 */
export function endTxnMarkerAt(buf: Buffer, pos: number): EndTxnMarker | null {
  const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + BatchOffset.batchLength);
  if (end > buf.length || (buf.readInt16BE(pos + BatchOffset.attributes) & Attr.compressionMask) !== 0) return null;
  try {
    let p = pos + BATCH_HEADER_SIZE;
    p += readVarint(buf, p).size; // record length
    p += 1; // attributes
    p += readVarlong(buf, p).size; // timestamp delta
    p += readVarint(buf, p).size; // offset delta
    const keyLength = readVarint(buf, p);
    p += keyLength.size;
    if (keyLength.value < 4 || p + keyLength.value > end) return null;
    const type = buf.readInt16BE(p + 2);
    p += keyLength.value;
    const valueLength = readVarint(buf, p);
    p += valueLength.size;
    const coordinatorEpoch = valueLength.value >= 6 && p + 6 <= end ? buf.readInt32BE(p + 2) : -1;
    return { type, coordinatorEpoch };
  } catch {
    return null;
  }
}

/** The last sequence of a batch: sequences wrap from INT32_MAX to 0. */
function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  const last = baseSequence + lastOffsetDelta;
  return last > INT32_MAX ? last - INT32_MAX - 1 : last;
}

const inSequence = (lastSeq: number, nextSeq: number) => nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerEntry>();
  /**
   * Open transactions: producer id -> first offset. Transactions open in offset order (appends are
   * serialized), so the Map's insertion order is first-offset order and its first entry the oldest.
   */
  private readonly ongoing = new Map<number, number>();
  /** Closed transactions whose marker is at or past the high watermark (replicated partitions). */
  private unreplicated: UnreplicatedTxn[] = [];

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
      if (!h.isTransactional && this.ongoing.has(h.producerId)) {
        throw new KafkaError(ErrorCode.INVALID_TXN_STATE, `expected a transactional write from producer ${h.producerId}: its transaction is open`);
      }
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

  /**
   * Records the batches of `buf` (offsets assigned), after they are in the log or found in it on
   * load. Returns the transactions an ABORT marker in it ended (for the transaction index), or
   * undefined (no allocation on the common path).
   */
  update(buf: Buffer, start = 0, end = buf.length): AbortedTxn[] | undefined {
    let aborted: AbortedTxn[] | undefined;
    for (let p = start; p + BATCH_HEADER_SIZE <= end; p += LOG_OVERHEAD + buf.readInt32BE(p + BatchOffset.batchLength)) {
      const txn = this.updateAt(buf, p);
      if (txn) (aborted ??= []).push(txn);
    }
    return aborted;
  }

  /**
   * Records one batch from its header (only the 61-byte header needs to be in `buf`, but a control
   * batch must be whole). Returns the aborted transaction its ABORT marker ended, if any.
   */
  updateAt(buf: Buffer, p: number): AbortedTxn | null {
    const h = producerHeaderAt(buf, p);
    if (h.producerId < 0) return null;
    const firstOffset = readInt64(buf, p + BatchOffset.baseOffset);
    const timestamp = readInt64(buf, p + BatchOffset.maxTimestamp);
    if (h.isControl) {
      const marker = endTxnMarkerAt(buf, p);
      if (!marker || (marker.type !== ControlType.ABORT && marker.type !== ControlType.COMMIT)) return null;
      return this.endTxn(h.producerId, h.epoch, marker, firstOffset, timestamp);
    }
    const entry = this.add(h.producerId, h.epoch, {
      firstSeq: h.baseSequence,
      lastSeq: lastSequence(h.baseSequence, h.lastOffsetDelta),
      firstOffset,
      lastOffset: firstOffset + h.lastOffsetDelta,
      timestamp,
    });
    if (h.isTransactional && entry.currentTxnFirstOffset < 0) {
      entry.currentTxnFirstOffset = firstOffset;
      this.ongoing.set(h.producerId, firstOffset);
    }
    return null;
  }

  private entryFor(producerId: number, epoch: number): ProducerEntry {
    let entry = this.producers.get(producerId);
    if (!entry) {
      entry = { producerId, epoch, batches: [], coordinatorEpoch: -1, currentTxnFirstOffset: -1, lastTimestamp: -1 };
      this.producers.set(producerId, entry);
    }
    return entry;
  }

  private add(producerId: number, epoch: number, batch: ProducerBatch): ProducerEntry {
    const entry = this.entryFor(producerId, epoch);
    if (entry.epoch !== epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    entry.batches.push(batch);
    if (entry.batches.length > BATCHES_RETAINED) entry.batches.shift();
    entry.lastTimestamp = batch.timestamp; // Kafka's: the last batch's, not the largest
    return entry;
  }

  /**
   * A COMMIT/ABORT marker at `offset`: the producer's transaction ends (a marker with a newer epoch
   * also bumps the producer's, as the coordinator's abort of a timed-out transaction does, which
   * fences the old producer). A transaction without records here changes no offset and is not indexed.
   */
  private endTxn(producerId: number, epoch: number, marker: EndTxnMarker, offset: number, timestamp: number): AbortedTxn | null {
    const entry = this.entryFor(producerId, epoch);
    if (epoch > entry.epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    entry.coordinatorEpoch = marker.coordinatorEpoch;
    entry.lastTimestamp = timestamp;
    const firstOffset = entry.currentTxnFirstOffset;
    if (firstOffset < 0) return null;
    // Kafka's lastStableOffset(completedTxn): the oldest other open transaction, else the offset after the marker.
    let lastStableOffset = offset + 1;
    for (const [id, first] of this.ongoing) {
      if (id !== producerId) {
        lastStableOffset = first;
        break;
      }
    }
    entry.currentTxnFirstOffset = -1;
    this.ongoing.delete(producerId);
    this.unreplicated.push({ firstOffset, lastOffset: offset });
    return marker.type === ControlType.ABORT ? { producerId, firstOffset, lastOffset: offset, lastStableOffset } : null;
  }

  /**
   * Checks a marker before it is written (Kafka's checks for markers from the coordinator): an
   * older producer epoch is INVALID_PRODUCER_EPOCH, an older coordinator epoch
   * TRANSACTION_COORDINATOR_FENCED.
   */
  /**
   * A marker of transaction version 2 (its end bumped the epoch) must carry an epoch above the
   * producer's current one here, as Kafka 4.4's ProducerAppendInfo: a marker at the epoch of an
   * open transaction's records is a zombie's. The same epoch is let through when no transaction is
   * open (a retried marker of an end already written) or at 32767 (the end that rotated the
   * producer id). Older versions: not below the current epoch.
   */
  checkMarker(producerId: number, epoch: number, coordinatorEpoch: number, transactionVersion = 0): void {
    const entry = this.producers.get(producerId);
    if (!entry) return;
    const strict = transactionVersion >= 2;
    const retried = strict && epoch === entry.epoch && (entry.currentTxnFirstOffset < 0 || epoch === 32767);
    if (!retried && (strict ? epoch <= entry.epoch : epoch < entry.epoch)) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `marker of producer ${producerId} has epoch ${epoch}, ${strict ? 'not above' : 'older than'} the current epoch ${entry.epoch} (transaction version ${transactionVersion})`);
    }
    if (coordinatorEpoch < entry.coordinatorEpoch) {
      throw new KafkaError(
        ErrorCode.TRANSACTION_COORDINATOR_FENCED,
        `marker of producer ${producerId} comes from coordinator epoch ${coordinatorEpoch}, older than ${entry.coordinatorEpoch}`,
      );
    }
  }

  /**
   * The first offset read_committed consumers may not read yet for this high watermark: the oldest
   * open transaction's first offset, or that of a closed one whose marker is not below it yet;
   * `highWatermark` when there is none. Forgets the closed ones the high watermark has passed.
   */
  firstUnstableOffset(highWatermark: number): number {
    let first = highWatermark;
    for (const offset of this.ongoing.values()) {
      first = Math.min(first, offset);
      break;
    }
    if (this.unreplicated.length > 0) {
      this.unreplicated = this.unreplicated.filter((t) => t.lastOffset >= highWatermark);
      for (const t of this.unreplicated) first = Math.min(first, t.firstOffset);
    }
    return first;
  }

  /** Open transactions, oldest first (tools and tests). */
  openTransactions(): Array<{ producerId: number; firstOffset: number }> {
    return [...this.ongoing].map(([producerId, firstOffset]) => ({ producerId, firstOffset }));
  }

  clear(): void {
    this.producers.clear();
    this.ongoing.clear();
    this.unreplicated = [];
  }

  /**
   * Forgets producers whose last batch is older than `maxAgeMs` (Kafka's producer.id.expiration.ms,
   * one day by default), so short-lived producers do not pile up. Returns how many went.
   */
  expire(now: number, maxAgeMs = PRODUCER_ID_EXPIRATION_MS): number {
    let removed = 0;
    for (const [id, e] of this.producers) {
      // A producer with an open transaction stays: its first offset holds the last stable offset.
      if (e.currentTxnFirstOffset >= 0) continue;
      if (now - e.lastTimestamp > maxAgeMs) {
        this.producers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  // ---- snapshots ----

  /** Kafka's v1 snapshot: every producer's epoch, last batch (if any) and open transaction. */
  serialize(): Buffer {
    const entries = [...this.producers.values()];
    const buf = Buffer.alloc(SNAPSHOT_HEADER + entries.length * ENTRY_SIZE);
    buf.writeInt16BE(SNAPSHOT_VERSION, 0);
    buf.writeInt32BE(entries.length, 6);
    let p = SNAPSHOT_HEADER;
    for (const e of entries) {
      const last = e.batches[e.batches.length - 1];
      writeInt64(buf, p, e.producerId);
      buf.writeInt16BE(e.epoch, p + 8);
      // A producer known from markers only: no sequence, no offset (Kafka writes -1, -1, 0 too).
      buf.writeInt32BE(last ? last.lastSeq : -1, p + 10);
      writeInt64(buf, p + 14, last ? last.lastOffset : -1);
      buf.writeInt32BE(last ? last.lastOffset - last.firstOffset : 0, p + 22);
      writeInt64(buf, p + 26, e.lastTimestamp);
      buf.writeInt32BE(e.coordinatorEpoch, p + 34);
      writeInt64(buf, p + 38, e.currentTxnFirstOffset);
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
    this.clear();
    let p = SNAPSHOT_HEADER;
    const open: Array<[number, number]> = [];
    for (let i = 0; i < count; i++, p += ENTRY_SIZE) {
      const producerId = readInt64(buf, p);
      const epoch = buf.readInt16BE(p + 8);
      const lastSeq = buf.readInt32BE(p + 10);
      const lastOffset = readInt64(buf, p + 14);
      const delta = buf.readInt32BE(p + 22);
      const timestamp = readInt64(buf, p + 26);
      const entry = this.entryFor(producerId, epoch);
      if (lastOffset >= 0) {
        const firstSeq = lastSeq - delta < 0 ? lastSeq - delta + INT32_MAX + 1 : lastSeq - delta;
        this.add(producerId, epoch, { firstSeq, lastSeq, firstOffset: lastOffset - delta, lastOffset, timestamp });
      }
      entry.lastTimestamp = timestamp;
      entry.coordinatorEpoch = buf.readInt32BE(p + 34);
      const txnFirst = readInt64(buf, p + 38);
      if (txnFirst >= 0) {
        entry.currentTxnFirstOffset = txnFirst;
        open.push([producerId, txnFirst]);
      }
    }
    // The open-transaction map must list the oldest first.
    open.sort((a, b) => a[1] - b[1]);
    for (const [producerId, first] of open) this.ongoing.set(producerId, first);
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
