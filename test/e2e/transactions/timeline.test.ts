// With kts.broker.transaction at DEBUG, the coordinator prints where each transaction's time went
// once its Complete state is written: the Ongoing state after the first partition was asked for, the
// EndTxn request, the Prepare state (when EndTxn is answered), the markers and the Complete state.
// Shown with transactions v1 (AddPartitionsToTxn, Produce, EndTxn v3) and v2 (Produce v12 adding the
// partition, EndTxn v5); at INFO nothing is recorded or printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../../src/client/index.js';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { pollUntil, RawTxnClient } from './support.js';

const LINE =
  /\] DEBUG Transaction of (\S+) \(producer id (\d+), epoch (\d+)\) (committed|aborted) over (\d+) partition\(s\): Ongoing written ([\d.]+) ms after its first partition was asked for; EndTxn ([\d.]+) ms later; (Prepare\w+) written ([\d.]+) ms after it \(EndTxn answered\); markers ([\d.]+) ms later; (Complete\w+) ([\d.]+) ms after them; ([\d.]+) ms in all \(kts\.broker\.transaction\)\n/g;

interface Timeline {
  id: string;
  epoch: number;
  outcome: string;
  partitions: number;
  steps: number[];
  prepare: string;
  complete: string;
  total: number;
}

describe('transaction timeline (DEBUG)', () => {
  let broker: SpawnedBroker;
  let client: KafkaClient;
  let raw: RawTxnClient;
  const timelines = (): Timeline[] =>
    [...broker.output().matchAll(LINE)].map((m) => ({
      id: m[1],
      epoch: Number(m[3]),
      outcome: m[4],
      partitions: Number(m[5]),
      steps: [m[6], m[7], m[9], m[10], m[12]].map(Number),
      prepare: m[8],
      complete: m[11],
      total: Number(m[13]),
    }));
  const setLevel = async (level: string) => {
    const [r] = await client.admin.incrementalAlterConfigs([{ type: 'brokerLogger', name: '0', ops: [{ name: 'kts.broker.transaction', op: 'set', value: level }] }]);
    expect(r.error).toBeUndefined();
  };

  beforeAll(async () => {
    broker = await spawnBroker();
    client = await KafkaClient.connect(broker.bootstrap, { clientId: 'timeline-test' });
    await client.admin.createTopics([{ name: 'tl', numPartitions: 2, replicationFactor: 1 }]);
    raw = await RawTxnClient.connect(broker.port);
  });
  afterAll(async () => {
    raw?.close();
    client?.close();
    await broker?.stop();
  });

  /** One transaction v1 over both partitions of `tl`. */
  const v1 = async (id: string, producerId: number, i: number, commit: boolean) => {
    expect(await raw.addPartitions(id, producerId, 0, 'tl', [0, 1])).toEqual([0, 0]);
    for (const p of [0, 1]) expect((await raw.produce(id, producerId, 0, 'tl', p, i, [`v${i}`])).errorCode).toBe(0);
    expect(await raw.endTxn(id, producerId, 0, commit)).toBe(0);
  };

  it('prints one line per transaction ended by its client, with every step, only at DEBUG', async () => {
    const { producerId } = await raw.initRetrying('tl-v1');
    await v1('tl-v1', producerId, 0, true);
    // Complete is written after the EndTxn answer: the next transaction waits for it, so it is done by the end of this one.
    await v1('tl-v1', producerId, 1, true);
    expect(broker.output()).not.toContain('DEBUG Transaction of');

    await setLevel('DEBUG');
    await v1('tl-v1', producerId, 2, true);
    await v1('tl-v1', producerId, 3, false);
    const lines = await pollUntil(async () => timelines(), (t) => t.length >= 2, 10_000, 'two timeline lines');
    expect(lines.map((t) => [t.id, t.epoch, t.outcome, t.partitions, t.prepare, t.complete])).toEqual([
      ['tl-v1', 0, 'committed', 2, 'PrepareCommit', 'CompleteCommit'],
      ['tl-v1', 0, 'aborted', 2, 'PrepareAbort', 'CompleteAbort'],
    ]);
    for (const t of lines) {
      expect(t.steps.every((ms) => ms >= 0)).toBe(true);
      // The steps follow each other: together they are the whole (each is rounded to 0.01 ms).
      expect(Math.abs(t.steps.reduce((a, b) => a + b, 0) - t.total)).toBeLessThan(0.05);
    }

    await setLevel('INFO');
    const before = timelines().length;
    await v1('tl-v1', producerId, 4, true);
    await v1('tl-v1', producerId, 5, true);
    expect(timelines().length).toBe(before);
  });

  it('transactions v2: the Produce v12 that adds the partition starts it; EndTxn v5 bumps the epoch the line names', async () => {
    await setLevel('DEBUG');
    const id = 'tl-v2';
    const init = await raw.initRetrying(id);
    let epoch = init.producerEpoch;
    for (let i = 0; i < 3; i++) {
      const records = buildRecordBatch([{ value: `w${i}` }], { producerId: init.producerId, producerEpoch: epoch, baseSequence: 0, transactional: true });
      const produced = await raw.raw.request(0, 12, { transactionalId: id, acks: -1, timeoutMs: 30_000, topicData: [{ name: 'tl', partitionData: [{ index: 1, records }] }] });
      expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
      const ended = await raw.raw.request(26, 5, { transactionalId: id, producerId: init.producerId, producerEpoch: epoch, committed: true });
      expect(ended.errorCode).toBe(0);
      epoch = ended.producerEpoch;
    }
    const lines = await pollUntil(async () => timelines().filter((t) => t.id === id), (t) => t.length >= 3, 10_000, 'three v2 timeline lines');
    // The markers of each carry the epoch EndTxn bumped to.
    expect(lines.map((t) => [t.epoch, t.outcome, t.partitions])).toEqual([1, 2, 3].map((e) => [init.producerEpoch + e, 'committed', 1]));
    for (const t of lines) expect(Math.abs(t.steps.reduce((a, b) => a + b, 0) - t.total)).toBeLessThan(0.05);
  });
});
