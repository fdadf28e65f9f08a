// Checks the records of a magic-2 batch as bytes: varints are read in place and nothing is built
// per record or per header, so a batch that claims tens of millions of records or headers costs a
// walk over its bytes, never tens of millions of objects. Counts are checked against what the bytes
// can hold before anything is walked: a record takes at least MIN_RECORD_BYTES, a header
// MIN_HEADER_BYTES. The walk can pause (run(until)) so a caller can give the event loop back in the
// middle of a large batch, even in the middle of one record's headers. Messages follow Kafka's
// DefaultRecord/DefaultRecordBatch texts; every problem is INVALID_RECORD, as there.
import { ErrorCode, KafkaError } from '../errors.js';

/** length, attributes, timestampDelta, offsetDelta, key length, value length, header count: 1 byte each. */
export const MIN_RECORD_BYTES = 7;
/** key length 0 and value length -1: 1 byte each. */
export const MIN_HEADER_BYTES = 2;

// Cursor shared by the helpers below (no allocation per varint); -1 once a varint is truncated or too long.
let p = 0;

function varint(buf: Buffer, end: number): number {
  if (p >= end) return (p = -1);
  let b = buf[p++];
  if (b < 0x80) return (b >>> 1) ^ -(b & 1);
  let u = b & 0x7f;
  for (let shift = 7; ; shift += 7) {
    if (p >= end || shift > 28) return (p = -1);
    b = buf[p++];
    u |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  u >>>= 0;
  return (u >>> 1) ^ -(u & 1);
}

/** A zigzag varlong as a number (exact within +-2^53, which timestamp deltas stay in). */
function varlong(buf: Buffer, end: number): number {
  let raw = 0;
  let mul = 1;
  for (let n = 0; n < 10; n++) {
    if (p >= end) break;
    const b = buf[p++];
    raw += (b & 0x7f) * mul;
    if (b < 0x80) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    mul *= 128;
  }
  p = -1;
  return 0;
}

function invalid(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_RECORD, message);
}

/**
 * One batch's records in buf[start, end): exactly `count` well-formed records with offset deltas
 * 0..count-1 and nothing after them. Construct, then call run() until it returns true.
 */
export class RecordScan {
  /** The largest timestampDelta seen so far (the batch's maxTimestamp is baseTimestamp + this). */
  maxTimestampDelta = Number.NEGATIVE_INFINITY;
  private pos: number;
  private index = 0;
  /** End of the record whose headers are being read, or -1 between records. */
  private recordEnd = -1;
  private headersLeft = 0;

  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
    private readonly count: number,
  ) {
    this.pos = start;
    if (count < 0) throw invalid(`Found invalid record count ${count}`);
    if (count > (end - start) / MIN_RECORD_BYTES) {
      throw invalid(`Incorrect declared batch size, premature EOF reached: ${count} records cannot fit in ${end - start} bytes`);
    }
  }

  /** Walks until the cursor reaches `until` (a pause: returns false) or the batch is checked (true). */
  run(until = Number.POSITIVE_INFINITY): boolean {
    const { buf, end, count } = this;
    let i = this.index;
    let recordEnd = this.recordEnd;
    let headersLeft = this.headersLeft;
    p = this.pos;
    for (;;) {
      if (recordEnd >= 0) {
        while (headersLeft > 0) {
          if (p >= until) {
            this.save(i, recordEnd, headersLeft);
            return false;
          }
          const keyLength = varint(buf, recordEnd);
          if (p < 0) throw invalid(`record ${i}: header truncated`);
          if (keyLength < 0) throw invalid(`Invalid negative header key size ${keyLength}`);
          p += keyLength;
          const valueLength = varint(buf, recordEnd);
          if (p < 0 || valueLength < -1) throw invalid(`record ${i}: header truncated`);
          if (valueLength > 0) p += valueLength;
          if (p > recordEnd) throw invalid(`record ${i}: header truncated`);
          headersLeft--;
        }
        if (p !== recordEnd) throw invalid(`record ${i}: its size does not match its contents`);
        recordEnd = -1;
        i++;
      }
      if (i === count) {
        if (p !== end) throw invalid(`Incorrect declared batch size, records still remaining in file: ${end - p} bytes after ${count} records`);
        this.save(i, -1, 0);
        return true;
      }
      if (p >= until) {
        this.save(i, -1, 0);
        return false;
      }
      const length = varint(buf, end);
      if (p < 0) throw invalid(`Incorrect declared batch size, premature EOF reached at record ${i} of ${count}`);
      if (length < MIN_RECORD_BYTES - 1 || p + length > end) throw invalid(`record ${i}: invalid record size ${length}`);
      recordEnd = p + length;
      p++; // attributes
      const timestampDelta = varlong(buf, recordEnd);
      const offsetDelta = varint(buf, recordEnd);
      if (p < 0) throw invalid(`record ${i}: truncated`);
      if (offsetDelta !== i) throw invalid(`record ${i} of the batch has offset delta ${offsetDelta}`);
      if (timestampDelta > this.maxTimestampDelta) this.maxTimestampDelta = timestampDelta;
      for (let field = 0; field < 2; field++) {
        const len = varint(buf, recordEnd);
        if (p < 0 || len < -1) throw invalid(`record ${i}: invalid ${field === 0 ? 'key' : 'value'} length`);
        if (len > 0) p += len;
      }
      const headers = varint(buf, recordEnd); // a key or value running past the record leaves p >= recordEnd: p = -1
      if (p < 0) throw invalid(`record ${i}: truncated`);
      if (headers < 0) throw invalid(`Found invalid number of record headers ${headers}`);
      if (headers > (recordEnd - p) / MIN_HEADER_BYTES) {
        throw invalid(`Found invalid number of record headers. ${headers} cannot fit in the ${recordEnd - p} bytes left in record ${i}`);
      }
      headersLeft = headers;
    }
  }

  private save(index: number, recordEnd: number, headersLeft: number): void {
    this.pos = p;
    this.index = index;
    this.recordEnd = recordEnd;
    this.headersLeft = headersLeft;
  }
}

/** Checks the records synchronously; returns the largest timestampDelta. Throws INVALID_RECORD. */
export function scanRecords(buf: Buffer, start: number, end: number, count: number): number {
  const scan = new RecordScan(buf, start, end, count);
  scan.run();
  return scan.maxTimestampDelta;
}

/** Resolves on the event loop's next turn (after pending I/O callbacks): a pause in long work. */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * scanRecords that hands the event loop back after every `sliceBytes` of records, so other clients
 * are served while a large (decompressed) batch is checked. Small batches are checked in one go.
 */
export async function scanRecordsAsync(buf: Buffer, start: number, end: number, count: number, sliceBytes = 2 << 20): Promise<number> {
  const scan = new RecordScan(buf, start, end, count);
  for (let until = start + sliceBytes; !scan.run(until); until += sliceBytes) await yieldToEventLoop();
  return scan.maxTimestampDelta;
}
