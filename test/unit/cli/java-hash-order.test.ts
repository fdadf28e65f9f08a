// Java's HashMap iteration order, checked against orders Apache Kafka's own kafka-topics printed
// (test/e2e/real-kafka compares whole outputs against the running tool).
import { describe, expect, it } from 'vitest';
import { javaHashMapOrder, javaHashOrder, javaLongHash, javaStringHash, javaTopicPartitionHash } from '../../../src/cli/java-hash-order.js';

describe('Java HashMap order', () => {
  it('String.hashCode as Java computes it (overflowing int arithmetic; values from jshell)', () => {
    expect(javaStringHash('')).toBe(0);
    expect(javaStringHash('a')).toBe(97);
    expect(javaStringHash('orders')).toBe(-1008770331);
    expect(javaStringHash('__consumer_offsets')).toBe(-970371369);
  });

  it('matches the describe order Kafka 4.4 printed for three topics', () => {
    // kafka-topics --describe: with.dot, orders, compacted (listed sorted: compacted, orders, with.dot).
    expect(javaHashMapOrder(['compacted', 'orders', 'with.dot'])).toEqual(['with.dot', 'orders', 'compacted']);
    expect(javaHashMapOrder(['compacted', 'orders'])).toEqual(['orders', 'compacted']);
  });

  it('grows the table past three quarters full, and keeps insertion order within a bucket', () => {
    // 4 keys do not fit a 4-bucket table (threshold 3): 8 buckets.
    const keys = ['a', 'i', 'q', 'b'];
    // 'a' (97), 'i' (105) and 'q' (113) all land in bucket 1 of 8; 'b' in bucket 2.
    expect(javaHashMapOrder(keys)).toEqual(['a', 'i', 'q', 'b']);
    expect(javaHashMapOrder(['q', 'b', 'i', 'a'])).toEqual(['q', 'i', 'a', 'b']);
    expect(javaHashMapOrder([])).toEqual([]);
  });

  it('Long and TopicPartition hash codes, and a map of them in bucket order (find-hanging prints its producers so)', () => {
    // Long.hashCode: (int)(v ^ (v >>> 32)).
    expect(javaLongHash(5)).toBe(5);
    expect(javaLongHash(2 ** 32 + 1)).toBe(0);
    expect(javaLongHash(2 ** 32 * 3 + 7)).toBe(4);
    // TopicPartition.hashCode: 31 * (31 + partition) + topic.hashCode().
    expect(javaTopicPartitionHash({ topic: 'orders', partition: 0 })).toBe(-1008769370);
    // Producer ids 17, 1 and 33 share bucket 1 of 16 and keep their insertion order; 2 comes after.
    expect(javaHashOrder([17, 2, 1, 33], javaLongHash)).toEqual([17, 1, 33, 2]);
    // Sized for 2, three keys grow the table to 4 buckets: 1 and 33 in bucket 1, 2 in bucket 2.
    expect(javaHashOrder([2, 33, 1], javaLongHash, 2)).toEqual([33, 1, 2]);
  });
});
