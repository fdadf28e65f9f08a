// `kts server-start` paces V8's young-generation GC by the bytes it sends too (network/gc-pacing.ts):
// each Fetch answer's records are a fresh Buffer, dead once written, and without the pacing a
// consumer reading at full speed had V8 force a mark-compact every ~20 MB. Run under --trace-gc, a
// broker that answers 40 fetches of ~1 MB reports forced scavenges ("testing" is V8's reason for a
// collection asked for by gc()) while the fetch requests themselves weigh next to nothing, and
// every record comes back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecordBatch, iterateBatches } from '../../../src/protocol/records/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';

const BATCHES = 40;
const RECORDS = 1000;

describe('GC pacing of Fetch answers in the broker process', () => {
  let broker: SpawnedBroker;
  let raw: RawClient;
  beforeAll(async () => {
    // sh runs node with --trace-gc in front of the broker's own arguments.
    broker = await spawnBroker({ launcher: ['sh', '-c', 'exec "$0" --trace-gc "$@"'] });
    raw = await RawClient.connect(broker.port);
    const res = await raw.request(19, 4, { topics: [{ name: 'read', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    expect(res.topics[0].errorCode).toBe(0);
    const batch = buildRecordBatch(Array.from({ length: RECORDS }, () => ({ key: null, value: Buffer.alloc(1000, 0x62) })));
    for (let i = 0; i < BATCHES; i += 10) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => raw.request(0, 9, { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: 'read', partitionData: [{ index: 0, records: batch }] }] })),
      );
      expect(answers.map((a: any) => a.responses[0].partitionResponses[0].errorCode)).toEqual(Array(10).fill(0));
    }
  });
  afterAll(async () => {
    raw?.close();
    await broker?.stop();
  });

  it('collects the young generation as fetch answers leave', async () => {
    const forced = () => broker.output().split('\n').filter((l) => /Scavenge.*testing/.test(l)).length;
    const before = forced();
    let offset = 0;
    let bytes = 0;
    while (offset < BATCHES * RECORDS) {
      const res = await raw.request(1, 11, fetchBody('read', [{ partition: 0, offset }]));
      const p = res.responses[0].partitions[0];
      expect(p.errorCode).toBe(0);
      const batches = [...iterateBatches(p.records)];
      expect(batches.length).toBeGreaterThan(0);
      for (const { header } of batches) {
        expect(Number(header.baseOffset)).toBe(offset);
        offset += header.lastOffsetDelta + 1;
      }
      bytes += p.records.length;
    }
    expect(offset).toBe(BATCHES * RECORDS);
    // 40 x ~1 MB answers: nine 4 MiB steps (the requests add a few KB). The trace reaches us
    // through the broker's stdout, a moment after the answers.
    expect(bytes).toBeGreaterThan(BATCHES * RECORDS * 1000);
    for (const until = Date.now() + 5000; forced() - before < 8 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    expect(forced() - before).toBeGreaterThanOrEqual(8);
  });
});
