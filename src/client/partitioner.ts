// Kafka's default partitioner: a keyed record goes to murmur2(key) (made positive) modulo the
// partition count, so kts, Kafka's Java clients and kafkajs put the same key on the same partition.
// Records without a key stick to one partition per topic until that partition's batch is sent.

/** The 32-bit murmur2 variant Kafka uses (seed 0x9747b28c), as a signed int. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4] & 0xff) | ((data[i4 + 1] & 0xff) << 8) | ((data[i4 + 2] & 0xff) << 16) | ((data[i4 + 3] & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest === 3) h ^= (data[tail + 2] & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1] & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail] & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  return (murmur2(key) & 0x7fffffff) % numPartitions;
}

/** Sticky choice for unkeyed records: one random partition per topic until `next()`. */
export class StickyPartitioner {
  private readonly current = new Map<string, number>();

  partition(topic: string, numPartitions: number): number {
    let p = this.current.get(topic);
    if (p === undefined || p >= numPartitions) {
      p = Math.floor(Math.random() * numPartitions);
      this.current.set(topic, p);
    }
    return p;
  }

  /** Called when the sticky partition's batch is sent: pick another one next time. */
  next(topic: string, sentPartition: number, numPartitions: number): void {
    if (this.current.get(topic) !== sentPartition || numPartitions <= 1) return;
    let p = Math.floor(Math.random() * (numPartitions - 1));
    if (p >= sentPartition) p++;
    this.current.set(topic, p);
  }
}
