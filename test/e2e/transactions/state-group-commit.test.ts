// Group commit of __transaction_state: the transitions of different transactional ids that reach one
// partition while an append to it is in flight go together in the next append (one batch, one
// write) instead of one write each in a row. 40 producers on 40 connections run a transaction at
// once with every id on the one partition (transaction.state.log.num.partitions=1): every
// transition is written and answered, in fewer batches than records; after a kill -9 each id comes
// back from those batches in the state it was left in, and the committed records are all readable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { pollUntil, RawTxnClient, storedBatches } from './support.js';

const TOPIC = 'gc';
const PRODUCERS = 40;

describe('__transaction_state group commit', () => {
  let broker: SpawnedBroker;

  beforeAll(async () => {
    broker = await spawnBroker({ overrides: { 'transaction.state.log.num.partitions': '1' } });
    const raw = await RawClient.connect(broker.port);
    try {
      const res = await raw.request(19, 4, { topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30_000, validateOnly: false });
      expect(res.topics[0].errorCode).toBe(0);
    } finally {
      raw.close();
    }
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
  });

  it('concurrent transitions of 40 ids share appends; every state comes back after a kill -9', async () => {
    const clients = await Promise.all(Array.from({ length: PRODUCERS }, () => RawTxnClient.connect(broker.port)));
    const ids = clients.map((_, i) => `gc-${i}`);
    const producers: { producerId: number; producerEpoch: number }[] = [];
    try {
      const inits = await Promise.all(clients.map((c, i) => c.initRetrying(ids[i])));
      expect(inits.map((r) => r.errorCode)).toEqual(ids.map(() => 0));
      producers.push(...inits.map((r) => ({ producerId: Number(r.producerId), producerEpoch: r.producerEpoch })));
      const added = await Promise.all(clients.map((c, i) => c.addPartitions(ids[i], producers[i].producerId, producers[i].producerEpoch, TOPIC, [0])));
      expect(added).toEqual(ids.map(() => [0]));
      // Produce v8 (one request per producer, one after another on the partition's log).
      for (let i = 0; i < PRODUCERS; i++) {
        const records = buildRecordBatch([{ value: `r${i}` }], { ...producers[i], baseSequence: 0, transactional: true });
        const res = await clients[i].raw.request(0, 8, { transactionalId: ids[i], acks: -1, timeoutMs: 30_000, topicData: [{ name: TOPIC, partitionData: [{ index: 0, records }] }] });
        expect(res.responses[0].partitionResponses[0].errorCode).toBe(0);
      }
      // Even ids commit, odd ones abort.
      const ended = await Promise.all(clients.map((c, i) => c.endTxn(ids[i], producers[i].producerId, producers[i].producerEpoch, i % 2 === 0)));
      expect(ended).toEqual(ids.map(() => 0));
    } finally {
      for (const c of clients) c.close();
    }
    await pollUntil(
      async () => {
        const c = await RawTxnClient.connect(broker.port);
        try {
          return await Promise.all(ids.map(async (id) => (await c.describe(id)).transactionState));
        } finally {
          c.close();
        }
      },
      (states) => states.every((s) => s.startsWith('Complete')),
      30_000,
      'every transaction completed',
    );

    // Init, Ongoing, Prepare and Complete for each id: 160 records, fewer batches.
    const state = await storedBatches(broker.port, '__transaction_state');
    const records = state.reduce((n, b) => n + b.values.length, 0);
    expect(records).toBe(4 * PRODUCERS);
    expect(state.length).toBeLessThan(records);
    expect(state.some((b) => b.values.length > 1)).toBe(true);

    await broker.kill9();
    broker = await spawnBroker({ dataDir: broker.dataDir, port: broker.port, overrides: { 'transaction.state.log.num.partitions': '1' } });
    const c = await RawTxnClient.connect(broker.port);
    try {
      for (let i = 0; i < PRODUCERS; i++) {
        expect(await c.describe(ids[i])).toMatchObject({ errorCode: 0, transactionState: i % 2 === 0 ? 'CompleteCommit' : 'CompleteAbort', ...producers[i] });
      }
    } finally {
      c.close();
    }
    // The data: every record and marker, the committed ones readable (LSO at the log end).
    const data = await storedBatches(broker.port, TOPIC);
    expect(data.filter((b) => b.marker === 'COMMIT').length).toBe(PRODUCERS / 2);
    expect(data.filter((b) => b.marker === 'ABORT').length).toBe(PRODUCERS / 2);
    const raw = await RawClient.connect(broker.port);
    try {
      const lso = await raw.request(2, 5, { replicaId: -1, isolationLevel: 1, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] });
      expect(Number(lso.topics[0].partitions[0].offset)).toBe(2 * PRODUCERS);
    } finally {
      raw.close();
    }
  }, 120_000);
});
