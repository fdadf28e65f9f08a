// Reads the batch headers a broker wrote to disk: which codec and producer fields really got stored.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StoredBatch {
  baseOffset: number;
  codec: number;
  recordCount: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

export function storedBatches(dataDir: string, topic: string, partition: number): StoredBatch[] {
  const dir = join(dataDir, `${topic}-${partition}`);
  const out: StoredBatch[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.log')).sort()) {
    const buf = readFileSync(join(dir, file));
    for (let p = 0; p + 61 <= buf.length; p += 12 + buf.readInt32BE(p + 8)) {
      out.push({
        baseOffset: Number(buf.readBigInt64BE(p)),
        codec: buf.readInt16BE(p + 21) & 7,
        recordCount: buf.readInt32BE(p + 57),
        producerId: Number(buf.readBigInt64BE(p + 43)),
        producerEpoch: buf.readInt16BE(p + 51),
        baseSequence: buf.readInt32BE(p + 53),
      });
    }
  }
  return out;
}
