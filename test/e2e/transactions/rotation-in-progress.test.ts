// A transactions-v2 producer whose last usable epoch ended with a rotation gets its new producer id
// in the EndTxn answer, while the coordinator still writes that transaction's markers and its
// Complete state; only then is the new id the transaction's. A request with the new id arriving in
// between (the Java client's next TxnOffsetCommit or AddOffsetsToTxn) must be told to retry
// (CONCURRENT_TRANSACTIONS), as Kafka answers while a transition is pending, not that its producer id
// is unknown: INVALID_PRODUCER_ID_MAPPING is fatal to the client. The in-between moment is held open
// with the fault hook that stops the coordinator after the markers, before the Complete state.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { driveEpoch, pollUntil, RawTxnClient } from './support.js';

const ID = 'rot-pending';
const TOPIC = 'rot-pending';
const LAST_USABLE_EPOCH = 32766;
const CONCURRENT_TRANSACTIONS = 51;

describe('a request with the rotated producer id before the rotation is complete', () => {
  let broker: SpawnedBroker;
  beforeAll(async () => {
    broker = await spawnBroker({ env: { KTS_FAULT_TXN_HALT_BEFORE_COMPLETE: ID } });
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
    await admin.disconnect();
  }, 120_000);
  afterAll(async () => {
    await broker?.stop();
  });

  it('is answered CONCURRENT_TRANSACTIONS, not INVALID_PRODUCER_ID_MAPPING', async () => {
    const oldProducerId = await driveEpoch(broker.port, ID, LAST_USABLE_EPOCH);
    const raw = await RawClient.connect(broker.port);
    const txn = await RawTxnClient.connect(broker.port);
    try {
      const records = buildRecordBatch([{ value: 'x' }], { producerId: oldProducerId, producerEpoch: LAST_USABLE_EPOCH, baseSequence: 0, transactional: true });
      const produced = await raw.request(0, 12, { transactionalId: ID, acks: -1, timeoutMs: 30_000, topicData: [{ name: TOPIC, partitionData: [{ index: 0, records }] }] });
      expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
      const ended = await raw.request(26, 5, { transactionalId: ID, producerId: oldProducerId, producerEpoch: LAST_USABLE_EPOCH, committed: true });
      expect(ended.errorCode).toBe(0);
      const newProducerId = Number(ended.producerId);
      expect(newProducerId).not.toBe(oldProducerId);
      expect(ended.producerEpoch).toBe(0);
      // The hook has stopped the coordinator between the markers and the Complete state.
      await pollUntil(async () => broker.output(), (out) => out.includes(`markers of ${ID} are written; its Complete state is not`), 30_000, 'the fault hook');
      expect(await txn.describe(ID)).toMatchObject({ transactionState: 'PrepareCommit', producerId: oldProducerId });

      const addOffsets = await raw.request(25, 4, { transactionalId: ID, producerId: newProducerId, producerEpoch: 0, groupId: 'rot-pending-group' });
      expect(addOffsets.errorCode).toBe(CONCURRENT_TRANSACTIONS);
    } finally {
      raw.close();
      txn.close();
    }
  }, 120_000);
});
