// Kafka's cleaner offset map: for each key of the dirty section of a log, the offset of its latest
// record, plus the latest offset the map has seen. Kafka hashes the keys into a fixed buffer
// (log.cleaner.dedupe.buffer.size); here the keys themselves index a Map (no collisions to reason
// about) and the memory they take is counted, so the map fills at a bounded size just as Kafka's
// does: a full map ends the cleaning round early, and the rest of the dirty section waits for the next.

/** Rough bytes a Map entry costs besides its key bytes (V8 string header, hash table slot, number). */
const ENTRY_OVERHEAD = 48;

export class OffsetMap {
  private readonly offsets = new Map<string, number>();
  private bytes = 0;
  /** The latest offset put or noted; -1 when empty. */
  latestOffset = -1;

  constructor(readonly maxBytes: number) {}

  get size(): number {
    return this.offsets.size;
  }

  /** Whether another entry of `keyLength` bytes fits. */
  hasRoomFor(keyLength: number): boolean {
    return this.offsets.size === 0 || this.bytes + keyLength + ENTRY_OVERHEAD <= this.maxBytes;
  }

  /** Records `offset` as the latest of `key` (a later put wins: puts come in offset order). */
  put(key: string, offset: number): void {
    if (!this.offsets.has(key)) this.bytes += key.length + ENTRY_OVERHEAD;
    this.offsets.set(key, offset);
    if (offset > this.latestOffset) this.latestOffset = offset;
  }

  /** The latest offset of `key`, or -1. */
  get(key: string): number {
    return this.offsets.get(key) ?? -1;
  }

  updateLatestOffset(offset: number): void {
    if (offset > this.latestOffset) this.latestOffset = offset;
  }

  clear(): void {
    this.offsets.clear();
    this.bytes = 0;
    this.latestOffset = -1;
  }
}

/** A key's bytes as a Map key (latin1: one char per byte, no decoding). */
export const mapKey = (buf: Buffer, start: number, end: number): string => buf.toString('latin1', start, end);
