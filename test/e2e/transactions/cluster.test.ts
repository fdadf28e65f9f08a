// A transaction over partitions led by three different brokers (ZooKeeper mode): the coordinator
// writes the markers it leads itself and sends the others to their leaders with WriteTxnMarkers,
// as Kafka's TransactionMarkerChannelManager does; every partition ends with the COMMIT (then the
// ABORT) marker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { ThreeBrokers, IDS } from '../cluster/three-brokers.js';
import { runInterop } from '../../helpers/zookeeper.js';
import { pollUntil, storedBatches } from './support.js';

describe.skipIf(!runInterop)('transactions across brokers', () => {
  const cluster = new ThreeBrokers({ 'transaction.state.log.num.partitions': '3', 'offsets.topic.num.partitions': '3' });
  beforeAll(async () => {
    await cluster.start();
    // One partition led by each broker, each replicated to the other two.
    await cluster.createTopic('spread', 3, {}, [
      [1, 2, 3],
      [2, 3, 1],
      [3, 1, 2],
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
});
