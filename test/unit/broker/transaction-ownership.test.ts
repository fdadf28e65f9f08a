// A transaction coordinator in a cluster serves a __transaction_state partition only once it has
// taken it up: elected (the partition's state names this broker), it reads the partition from its
// replica first. Between the state and that load it answered from an empty memory, and the load then
// replaced what it had answered: kafkajs's producer got a producer id from InitProducerId and then
// INVALID_PRODUCER_ID_MAPPING from AddPartitionsToTxn (test/e2e/transactions/cluster.test.ts, full
// runs 12 and 13 at load ~25, where three partitions' states arrive one pass apart).
import { expect, it } from 'vitest';
import { MemoryCoordinatorLog } from '../../../src/broker/groups/store.js';
import { TransactionCoordinator } from '../../../src/broker/transactions/coordinator.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { settle, silentLog } from '../groups/harness.js';

it('an elected coordinator answers COORDINATOR_LOAD_IN_PROGRESS until it has read the partition, and writes nothing meanwhile', async () => {
  const store = new MemoryCoordinatorLog(1);
  let leader: number | undefined;
  let statesChanged = () => {};
  let nextProducerId = 1000;
  const coordinator = await TransactionCoordinator.start({
    store,
    settings: { maxTimeoutMs: 900_000, abortTimedOutIntervalMs: 60_000, expirationMs: 604_800_000, expirationIntervalMs: 3_600_000 },
    now: Date.now,
    log: { ...silentLog, debug() {}, isDebugEnabled: () => false } as never,
    generateProducerId: async () => nextProducerId++,
    writeMarker: async () => {},
    ownsPartition: () => leader === 1,
    coordinatorEpoch: () => 0,
    onStatesChanged: (listener) => (statesChanged = listener),
    leadsPartition: () => false,
  });
  await settle();
  expect((await coordinator.initProducerId('t', 60_000)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);

  // The state names this broker before the ownership listener has run.
  leader = 1;
  expect((await coordinator.initProducerId('t', 60_000)).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  expect(store.partitions[0]).toHaveLength(0);

  statesChanged();
  await settle();
  const init = await coordinator.initProducerId('t', 60_000);
  expect(init.errorCode).toBe(ErrorCode.NONE);
  expect(await coordinator.addPartitions('t', init.producerId, init.producerEpoch, [['orders', 0]])).toBe(ErrorCode.NONE);
  await coordinator.close();
});
