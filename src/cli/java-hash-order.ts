// The order in which Java's HashMap<String, V> iterates its keys. Kafka's tools print some results
// straight from such a map (kafka-topics --describe prints the topics of the admin client's
// DescribeTopicsResult.allTopicNames(), a HashMap sized for the request), so printing them in this
// order is what makes kts's piped output byte-identical to Kafka's.

/** java.lang.String#hashCode: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, as an int. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * `keys` (in insertion order) as `new HashMap<>(keys.length)` filled with them iterates: bucket by
 * bucket of the final table, insertion order within a bucket (a resize keeps it). The table starts
 * at the power of two at or above the requested size and doubles while size > 0.75 * capacity.
 * (HashMap turns a bucket of 8+ keys into a tree once the table has 64 buckets; with distinct topic
 * names that needs a hash collision storm and is not modelled.)
 */
export function javaHashMapOrder(keys: readonly string[], initialCapacity = keys.length): string[] {
  let capacity = 1;
  while (capacity < initialCapacity) capacity *= 2;
  while (keys.length > capacity * 0.75) capacity *= 2;
  const bucketOf = (k: string) => {
    const h = javaStringHash(k);
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return keys
    .map((k, i) => ({ k, i, b: bucketOf(k) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((e) => e.k);
}

/**
 * `items` as a java.util.HashMap keyed by `hash` (the key's hashCode) iterates them once filled in
 * this order: `initialCapacity` as given to the constructor (16 for `new HashMap<>()`).
 */
export function javaHashOrder<T>(items: readonly T[], hash: (item: T) => number, initialCapacity = 16): T[] {
  let capacity = 1;
  while (capacity < initialCapacity) capacity *= 2;
  while (items.length > capacity * 0.75) capacity *= 2;
  const bucketOf = (item: T) => {
    const h = hash(item) | 0;
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return items
    .map((item, i) => ({ item, i, b: bucketOf(item) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((e) => e.item);
}

/** java.lang.Long#hashCode of a non-negative id below 2^53. */
export function javaLongHash(v: number): number {
  return (Number(BigInt(v) & 0xffffffffn) ^ Math.floor(v / 2 ** 32)) | 0;
}

/** org.apache.kafka.common.TopicPartition#hashCode. */
export function javaTopicPartitionHash(tp: { topic: string; partition: number }): number {
  return (Math.imul(31, 31 + tp.partition) + javaStringHash(tp.topic)) | 0;
}
