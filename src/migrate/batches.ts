// From what a source partition's Fetch returned to what is produced to the target partition.
//
// A source batch is moved as bytes when the target would accept it unchanged but for its producer
// fields: magic 2, CreateTime, not a control batch, no delete horizon, every record from the fetch
// position on, and no hole left by compaction (recordCount == lastOffsetDelta + 1; Kafka refuses a
// produced batch whose offsets are not 0..n-1). Its header is then re-stamped with the migration's
// own producer id and sequence (stampBatch) and the CRC recomputed: the records' bytes, compressed or
// not, are never touched. A small batch (a producer that sent one record at a time) would cost a
// round trip to the target per record, since a Produce request holds one batch per partition; small
// ones and the ones that cannot move as bytes are decoded and coalesced with their neighbours into
// batches of up to COALESCE_BYTES. Control batches (transaction markers) and the records of aborted
// transactions are not copied: the target's consumers would never see them either.
import {
  Attr,
  BatchOffset,
  LOG_OVERHEAD,
  buildRecordBatch,
  crc32c,
  decodeRecordBatch,
  decodeRecords,
  type RecordInput,
} from '../protocol/records/index.js';

/** Source offsets `src`..`src + count - 1`, all copied, in this order. */
export interface CopyRun {
  src: number;
  count: number;
}

export interface ProduceUnit {
  /** One magic-2 batch; producer id, epoch and sequence are stamped when it is sent. */
  batch: Buffer;
  recordCount: number;
  /** The source offsets of its records, as contiguous runs. */
  runs: CopyRun[];
  /** Moved as the source's bytes (true) or decoded and rebuilt (false). */
  forwarded: boolean;
}

export interface ChunkPlan {
  units: ProduceUnit[];
  /** Where the next fetch starts: past everything looked at, copied or skipped. */
  srcNext: number;
}

/** A batch at least this big moves as bytes; smaller ones are coalesced. */
export const FORWARD_MIN_BYTES = 32 * 1024;
/** The most record bytes a coalesced batch holds (below every broker's default max.message.bytes). */
export const COALESCE_BYTES = 512 * 1024;

interface Pending {
  records: RecordInput[];
  runs: CopyRun[];
  bytes: number;
  compression: number;
}

/**
 * Plans the copy of one fetched chunk: records at offsets `from` <= offset < `end`, skipping
 * control batches and the batches of the aborted transactions the fetch listed.
 */
export function planChunk(buf: Buffer | null, from: number, end: number, abortedTransactions: { producerId: number; firstOffset: number }[] = []): ChunkPlan {
  const units: ProduceUnit[] = [];
  let srcNext = from;
  if (!buf || buf.length === 0) return { units, srcNext };
  const aborted = [...abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset);
  const abortedProducers = new Set<number>();
  let pending: Pending | null = null;
  const flush = (): void => {
    if (!pending || pending.records.length === 0) return;
    units.push({ batch: buildRecordBatch(pending.records, { compression: pending.compression }), recordCount: pending.records.length, runs: pending.runs, forwarded: false });
    pending = null;
  };
  const take = (offset: number, record: RecordInput, size: number, compression: number): void => {
    if (pending && (pending.bytes + size > COALESCE_BYTES || pending.compression !== compression)) flush();
    pending ??= { records: [], runs: [], bytes: 0, compression };
    pending.records.push(record);
    pending.bytes += size;
    const last = pending.runs[pending.runs.length - 1];
    if (last && last.src + last.count === offset) last.count++;
    else pending.runs.push({ src: offset, count: 1 });
  };

  let pos = 0;
  while (buf.length - pos >= LOG_OVERHEAD + 5) {
    const size = buf.readInt32BE(pos + BatchOffset.batchLength);
    const batchEnd = pos + LOG_OVERHEAD + size;
    if (size <= 0 || batchEnd > buf.length) break; // a fetch may end inside a batch
    const magic = buf[pos + BatchOffset.magic];
    const baseOffset = Number(buf.readBigInt64BE(pos));
    if (baseOffset >= end) break;
    if (magic !== 2) {
      // Magic 0/1 message sets (a log written by an old client): one record per entry, decoded.
      const attributes = buf[pos + 17];
      for (const r of decodeRecords(buf.subarray(pos, batchEnd))) {
        if (r.offset >= end) break;
        srcNext = Math.max(srcNext, r.offset + 1);
        if (r.offset < from) continue;
        const timestamp = magic === 0 ? undefined : r.timestamp;
        take(r.offset, { key: r.key, value: r.value, headers: [], timestamp }, recordBytes(r), attributes & Attr.compressionMask);
      }
      pos = batchEnd;
      continue;
    }
    const attributes = buf.readInt16BE(pos + BatchOffset.attributes);
    const lastOffsetDelta = buf.readInt32BE(pos + BatchOffset.lastOffsetDelta);
    const recordCount = buf.readInt32BE(pos + BatchOffset.recordCount);
    const producerId = Number(buf.readBigInt64BE(pos + BatchOffset.producerId));
    const lastOffset = baseOffset + lastOffsetDelta;
    while (aborted.length > 0 && aborted[0].firstOffset <= lastOffset) abortedProducers.add(aborted.shift()!.producerId);
    const control = (attributes & Attr.control) !== 0;
    const transactional = (attributes & Attr.transactional) !== 0;
    if (control) {
      // An abort marker ends that producer's aborted transaction (its key's type field is 0).
      const batch = decodeRecordBatch(buf, pos, { verifyCrc: false });
      if (abortedProducers.has(producerId) && batch.records[0]?.key?.readInt16BE(2) === 0) abortedProducers.delete(producerId);
    } else if (!(transactional && abortedProducers.has(producerId)) && recordCount > 0) {
      const compression = attributes & Attr.compressionMask;
      const movable =
        baseOffset >= from &&
        lastOffset < end &&
        recordCount === lastOffsetDelta + 1 &&
        (attributes & (Attr.logAppendTime | Attr.deleteHorizon)) === 0 &&
        size + LOG_OVERHEAD >= FORWARD_MIN_BYTES;
      if (movable) {
        flush();
        units.push({ batch: buf.subarray(pos, batchEnd), recordCount, runs: [{ src: baseOffset, count: recordCount }], forwarded: true });
      } else {
        for (const r of decodeRecordBatch(buf, pos).records) {
          if (r.offset < from) continue;
          if (r.offset >= end) break;
          take(r.offset, { key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }, recordBytes(r), compression);
        }
      }
    }
    srcNext = Math.max(srcNext, Math.min(lastOffset + 1, end));
    pos = batchEnd;
  }
  flush();
  return { units, srcNext };
}

function recordBytes(r: { key: Buffer | null; value: Buffer | null; headers: { key: string; value: Buffer | null }[] }): number {
  let n = 24 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += h.key.length + (h.value?.length ?? 0) + 4;
  return n;
}

/**
 * Makes `batch` the migration's own: offset 0, no leader epoch, the migration's idempotent producer
 * id, epoch and sequence, not transactional (the source's transaction is over: only committed
 * records are copied), CRC recomputed. Changes the buffer in place.
 */
export function stampBatch(batch: Buffer, producerId: number, producerEpoch: number, baseSequence: number): Buffer {
  batch.writeBigInt64BE(0n, BatchOffset.baseOffset);
  batch.writeInt32BE(-1, BatchOffset.partitionLeaderEpoch);
  const attributes = batch.readInt16BE(BatchOffset.attributes) & ~Attr.transactional;
  batch.writeInt16BE(attributes, BatchOffset.attributes);
  batch.writeBigInt64BE(BigInt(producerId), BatchOffset.producerId);
  batch.writeInt16BE(producerEpoch, BatchOffset.producerEpoch);
  batch.writeInt32BE(baseSequence, BatchOffset.baseSequence);
  batch.writeUInt32BE(crc32c(batch, BatchOffset.attributes, batch.length), BatchOffset.crc);
  return batch;
}

/** Kafka's sequence arithmetic: sequences wrap from Integer.MAX_VALUE to 0. */
export function nextSequence(sequence: number, increment: number): number {
  return (sequence + increment) % 2147483648;
}
