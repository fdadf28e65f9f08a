// Produce requests pipelined on one connection overlap inside the broker (network/connection.ts),
// but appends keep request order and answers keep request order, on one partition and across
// several; a Fetch pipelined behind them sees every record they wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest } from '../../../src/protocol/index.js';
import { buildRecordBatch, decodeRecords } from '../../../src/protocol/records/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';

const produceBody = (topic: string, parts: { index: number; records: Buffer }[], acks = 1) => ({
  transactionalId: null,
  acks,
  timeoutMs: 30_000,
  topicData: [{ name: topic, partitionData: parts }],
});

describe('pipelined produce on one connection', () => {
  let broker: SpawnedBroker;
  let raw: RawClient;
  beforeAll(async () => {
    broker = await spawnBroker();
    raw = await RawClient.connect(broker.port);
    const res = await raw.request(19, 4, {
      topics: [
        { name: 'one', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'three', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'compressed', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expect(res.topics.map((t: any) => t.errorCode)).toEqual([0, 0, 0]);
  });
  afterAll(async () => {
    raw?.close();
    await broker?.stop();
  });

  it('200 produces sent without waiting are stored and answered in request order', async () => {
    const n = 200;
    const sizes = Array.from({ length: n }, (_, i) => 1 + ((i * 7) % 13));
    const pending = sizes.map((count, i) =>
      raw.request(
        0,
        9,
        produceBody('one', [
          {
            index: 0,
            records: buildRecordBatch(Array.from({ length: count }, (_, j) => ({ key: null, value: Buffer.from(`r${i}-${j}`) }))),
          },
        ]),
      ),
    );
    // A fetch pipelined right behind them runs after all of them.
    const fetched = raw.request(1, 11, fetchBody('one', [{ partition: 0, offset: 0 }], { maxBytes: 1 << 24 }));
    const answers = await Promise.all(pending);
    let expected = 0;
    for (let i = 0; i < n; i++) {
      const p = answers[i].responses[0].partitionResponses[0];
      expect(p.errorCode).toBe(0);
      expect(Number(p.baseOffset)).toBe(expected);
      expected += sizes[i];
    }
    const f = (await fetched).responses[0].partitions[0];
    expect(f.errorCode).toBe(0);
    expect(Number(f.highWatermark)).toBe(expected);
    const values = decodeRecords(f.records).map((r) => r.value!.toString());
    const want = sizes.flatMap((count, i) => Array.from({ length: count }, (_, j) => `r${i}-${j}`));
    expect(values).toEqual(want);
  });

  it('keeps request order when a large compressed batch goes ahead of small ones (each checked off the event loop)', async () => {
    // A compressed batch is inflated and walked before it is appended, two at a time: the small ones
    // behind the large one are ready first, and were appended first (records out of the order a
    // non-idempotent producer with requests in flight sent them; kcat's lz4 round trip saw it).
    const large = buildRecordBatch(
      Array.from({ length: 40_000 }, (_, j) => ({ key: null, value: Buffer.from(`large-${j} ${'x'.repeat(90)}`) })),
      { compression: 1 },
    );
    const small = (i: number) => buildRecordBatch([{ key: null, value: Buffer.from(`small-${i}`) }], { compression: 1 });
    const batches = [large, small(1), small(2), small(3), small(4), small(5)];
    const answers = await Promise.all(batches.map((records) => raw.request(0, 9, produceBody('compressed', [{ index: 0, records }]))));
    const offsets = answers.map((a) => [a.responses[0].partitionResponses[0].errorCode, Number(a.responses[0].partitionResponses[0].baseOffset)]);
    expect(offsets).toEqual([[0, 0], [0, 40_000], [0, 40_001], [0, 40_002], [0, 40_003], [0, 40_004]]);
  });

  it('keeps order per partition when each request writes to several partitions, with acks=0 mixed in', async () => {
    const n = 60;
    const pending: Promise<any>[] = [];
    for (let i = 0; i < n; i++) {
      const parts = [0, 1, 2].map((index) => ({
        index,
        records: buildRecordBatch([{ key: null, value: Buffer.from(`p${index}-${i}`) }]),
      }));
      if (i % 10 === 5) {
        // acks=0: no answer; written all the same, in its place.
        for (const chunk of encodeRequest(0, 9, 100_000 + i, 'raw', produceBody('three', parts, 0))) raw.socket.write(chunk);
        continue;
      }
      pending.push(raw.request(0, 9, produceBody('three', parts)));
    }
    await Promise.all(pending);
    for (const partition of [0, 1, 2]) {
      const f = (await raw.request(1, 11, fetchBody('three', [{ partition, offset: 0 }], { maxBytes: 1 << 24 }))).responses[0].partitions[0];
      const values = decodeRecords(f.records).map((r) => r.value!.toString());
      expect(values).toEqual(Array.from({ length: n }, (_, i) => `p${partition}-${i}`));
    }
  });
});
