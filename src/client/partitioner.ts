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

/**
 * Sticky choice for unkeyed records: one random partition per topic until `next()`. As Kafka's
 * BuiltInPartitioner, the pick is among the partitions that have a leader (all of them when none
 * has), so records without a key keep flowing while a broker is down.
 */
export class StickyPartitioner {
  private readonly current = new Map<string, number>();

  /** `leaders[i]`: the leader of partition i, -1 when it has none. */
  partition(topic: string, leaders: readonly number[]): number {
    const p = this.current.get(topic);
    if (p !== undefined && p < leaders.length && (leaders[p] >= 0 || !leaders.some((l) => l >= 0))) return p;
    return this.pick(topic, leaders, -1);
  }

  /** Called when the sticky partition's batch is sent: pick another one next time. */
  next(topic: string, sentPartition: number, leaders: readonly number[]): void {
    if (this.current.get(topic) !== sentPartition || leaders.length <= 1) return;
    this.pick(topic, leaders, sentPartition);
  }

  private pick(topic: string, leaders: readonly number[], except: number): number {
    const all = leaders.map((_, i) => i).filter((i) => i !== except);
    const available = all.filter((i) => leaders[i] >= 0);
    const from = available.length > 0 ? available : all.length > 0 ? all : [except];
    const p = from[Math.floor(Math.random() * from.length)];
    this.current.set(topic, p);
    return p;
  }
}
