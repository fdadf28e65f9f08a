// Decodes a whole `records` field of any magic (0, 1 and 2 may be mixed): what the CLI consumer
// and the tests read. Every entry starts with offset int64 + size int32 and has its magic at byte 16.
import { ErrorCode, KafkaError } from '../errors.js';
import { BatchOffset, LOG_OVERHEAD } from './batch-header.js';
import { expandLegacyEntries } from './legacy-message-set.js';
import { decodeBatchInto, type DecodeOptions } from './record-batch.js';
import type { Record } from './record.js';

const MAGIC_AT = 16;

/**
 * Every data record in `buf`, in order, with absolute offsets. Skips a truncated tail and
 * control batches (transaction markers). CRCs are verified (bad -> CORRUPT_MESSAGE).
 * Records before the fetch offset are the caller's to drop (a batch may start earlier).
 */
export function decodeRecords(buf: Buffer, opts: DecodeOptions = {}): Record[] {
  const out: Record[] = [];
  let pos = 0;
  while (buf.length - pos > MAGIC_AT) {
    const size = buf.readInt32BE(pos + BatchOffset.batchLength);
    if (size < 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `invalid entry size ${size} at ${pos}`);
    const end = pos + LOG_OVERHEAD + size;
    if (end > buf.length) break;
    const magic = buf[pos + MAGIC_AT];
    if (magic === 2) {
      decodeBatchInto(out, buf, pos, opts, true);
    } else if (magic === 0 || magic === 1) {
      expandLegacyEntries(out, buf, pos, end, { truncated: 'throw', maxDecompressedBytes: opts.maxDecompressedBytes });
    } else {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `unknown magic ${magic} at ${pos}`);
    }
    pos = end;
  }
  return out;
}
