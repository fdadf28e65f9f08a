// The broker's counters, kept cheap for the hot path: a request adds to a few numbers in a typed
// array of its API key, a Produce or Fetch adds to its topic's counters once per partition (never
// per record). Everything else (partition counts, log sizes, group lag, memory) is read when
// Prometheus scrapes: see metrics-server.ts, and prometheus-text.ts for the names.

/** Upper bounds of the request latency buckets, in milliseconds (Prometheus exposes them in seconds). */
export const LATENCY_BUCKETS_MS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];
const BUCKETS = LATENCY_BUCKETS_MS.length;
/** Per API key: one slot per bucket, then +Inf, then the sum of the latencies (ms), then the error answers. */
const SUM = BUCKETS + 1;
const SLOTS = BUCKETS + 2;

export interface TopicCounters {
  /** Bytes of record batches produced to the topic, as received (Kafka's BytesInPerSec). */
  bytesIn: number;
  /** Records appended (Kafka's MessagesInPerSec). */
  messagesIn: number;
  /** Bytes of record batches sent to consumers (BytesOutPerSec; followers are counted apart, as Kafka does). */
  bytesOut: number;
  /** Bytes sent to follower replicas (ReplicationBytesOutPerSec). */
  replicationBytesOut: number;
  /** Produce requests' partitions that failed (FailedProduceRequestsPerSec, per partition). */
  failedProduce: number;
}

export class BrokerMetrics {
  /** API key -> latency buckets, +Inf, sum; allocated the first time the API is served. */
  private readonly requestSlots: (Float64Array | undefined)[] = [];
  private readonly topicCounters = new Map<string, TopicCounters>();
  /** Connections accepted since the start (Kafka's connection-creation-total). */
  connectionsCreated = 0;
  connectionsClosed = 0;

  /** One request answered (or failed), after `ms` milliseconds. */
  requestDone(apiKey: number, ms: number): void {
    let slots = this.requestSlots[apiKey];
    if (slots === undefined) slots = this.requestSlots[apiKey] = new Float64Array(SLOTS);
    let i = 0;
    while (i < BUCKETS && ms > LATENCY_BUCKETS_MS[i]) i++;
    slots[i]++;
    slots[SUM] += ms;
  }

  produced(topic: string, bytes: number, records: number): void {
    const c = this.countersOf(topic);
    c.bytesIn += bytes;
    c.messagesIn += records;
  }

  produceFailed(topic: string): void {
    this.countersOf(topic).failedProduce++;
  }

  fetched(topic: string, bytes: number, follower: boolean): void {
    const c = this.countersOf(topic);
    if (follower) c.replicationBytesOut += bytes;
    else c.bytesOut += bytes;
  }

  /** Kafka drops a deleted topic's metrics. */
  topicDeleted(topic: string): void {
    this.topicCounters.delete(topic);
  }

  topics(): IterableIterator<[string, TopicCounters]> {
    return this.topicCounters.entries();
  }

  /** [apiKey, cumulative bucket counts (the last is +Inf, the total), sum in ms] for every API served so far. */
  *requests(): Generator<{ apiKey: number; cumulative: number[]; sumMs: number }> {
    for (let apiKey = 0; apiKey < this.requestSlots.length; apiKey++) {
      const slots = this.requestSlots[apiKey];
      if (!slots) continue;
      const cumulative: number[] = [];
      let running = 0;
      for (let i = 0; i <= BUCKETS; i++) cumulative.push((running += slots[i]));
      yield { apiKey, cumulative, sumMs: slots[SUM] };
    }
  }

  private countersOf(topic: string): TopicCounters {
    let c = this.topicCounters.get(topic);
    if (c === undefined) {
      c = { bytesIn: 0, messagesIn: 0, bytesOut: 0, replicationBytesOut: 0, failedProduce: 0 };
      this.topicCounters.set(topic, c);
    }
    return c;
  }
}
