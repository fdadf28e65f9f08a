// A transaction over partitions led by three different brokers (ZooKeeper mode): the coordinator
// writes the markers it leads itself and sends the others to their leaders with WriteTxnMarkers,
// as Kafka's TransactionMarkerChannelManager does; every partition ends with the COMMIT (then the
// ABORT) marker. As Kafka's, the markers for one broker go in one WriteTxnMarkers request (counted
// with each broker's metrics: kafka_network_requestmetrics_requests_total).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { ThreeBrokers, IDS } from '../cluster/three-brokers.js';
import { runInterop } from '../../helpers/zookeeper.js';
import { pollUntil, storedBatches } from './support.js';

describe.skipIf(!runInterop)('transactions across brokers', () => {
  const cluster = new ThreeBrokers({ 'transaction.state.log.num.partitions': '3', 'offsets.topic.num.partitions': '3', 'kts.metrics.port': '0' });
  beforeAll(async () => {
    await cluster.start();
    // One partition led by each broker, each replicated to the other two.
    await cluster.createTopic('spread', 3, {}, [
      [1, 2, 3],
      [2, 3, 1],
      [3, 1, 2],
    ]);
    // Two partitions led by each broker.
    await cluster.createTopic('spread6', 6, {}, [
      [1, 2, 3],
      [2, 3, 1],
      [3, 1, 2],
      [1, 3, 2],
      [2, 1, 3],
      [3, 2, 1],
    ]);
  }, 180_000);
  afterAll(async () => {
    await cluster.stop();
  });

  it('kafkajs commits and aborts over three leaders: both markers in every partition', async () => {
    const kafka = new Kafka({ brokers: cluster.bootstrap().split(','), logLevel: logLevel.NOTHING });
    // One send per partition (one leader per send): kafkajs 2.2.4's sendMessages, when one leader's
    // request fails retriably (CONCURRENT_TRANSACTIONS from AddPartitionsToTxn while t1's markers are
    // still being written, a timeout under load) while another leader's Produce is in flight, re-sends
    // to every leader without a response yet; that resend takes the partition's sequence after the
    // in-flight one already advanced it, so the same records go out as new data with the next
    // sequence, which any broker (Kafka too) must store: [c1, COMMIT, a1, a1, ABORT], seen once under load.
    const producer = kafka.producer({ transactionalId: 'spread-1', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const t1 = await producer.transaction();
      for (const partition of [0, 1, 2]) await t1.send({ topic: 'spread', messages: [{ partition, value: `c${partition}` }] });
      await t1.commit();
      const t2 = await producer.transaction();
      for (const partition of [0, 1, 2]) await t2.send({ topic: 'spread', messages: [{ partition, value: `a${partition}` }] });
      await t2.abort();
    } finally {
      await producer.disconnect();
    }
    for (const partition of [0, 1, 2]) {
      // Each partition read from its leader (broker 1, 2 and 3 in turn).
      const port = cluster.brokers.get(IDS[partition])!.port;
      const batches = await pollUntil(() => storedBatches(port, 'spread', partition), (b) => b.filter((x) => x.marker).length === 2, 60_000, `spread-${partition} markers`);
      expect(batches.map((b) => b.marker ?? b.values.join())).toEqual([`c${partition}`, 'COMMIT', `a${partition}`, 'ABORT']);
    }
  }, 180_000);

  /** WriteTxnMarkers requests each broker has answered so far. */
  async function markerRequests(): Promise<number[]> {
    return Promise.all(
      IDS.map(async (id) => {
        const port = /Metrics served at http:\/\/[^:]+:(\d+)\/metrics/.exec(cluster.brokers.get(id)!.output())![1];
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return Number(/kafka_network_requestmetrics_requests_total\{request="WriteTxnMarkers"\} (\d+)/.exec(text)?.[1] ?? 0);
      }),
    );
  }

  it('the markers for one broker go in one WriteTxnMarkers request: two partitions on each of the other two leaders', async () => {
    const kafka = new Kafka({ brokers: cluster.bootstrap().split(','), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: 'spread-6', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const before = await markerRequests();
    try {
      const t = await producer.transaction();
      // One send per partition (see above).
      for (let partition = 0; partition < 6; partition++) await t.send({ topic: 'spread6', messages: [{ partition, value: `v${partition}` }] });
      await t.commit();
    } finally {
      await producer.disconnect();
    }
    for (let partition = 0; partition < 6; partition++) {
      const port = cluster.brokers.get(IDS[partition % 3])!.port;
      const batches = await pollUntil(() => storedBatches(port, 'spread6', partition), (b) => b.some((x) => x.marker), 60_000, `spread6-${partition} marker`);
      expect(batches.map((b) => b.marker ?? b.values.join())).toEqual([`v${partition}`, 'COMMIT']);
    }
    const after = await markerRequests();
    const received = after.map((n, i) => n - before[i]);
    // The coordinator wrote its own two markers; each other broker got one request for its two.
    expect(received.filter((n) => n === 0).length).toBe(1);
    expect(received.filter((n) => n === 1).length).toBe(2);
  }, 180_000);
});
