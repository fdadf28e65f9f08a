// `kts server-start` paces V8's young-generation GC by the bytes clients send (network/gc-pacing.ts):
// run under --trace-gc, a broker that receives 12 MiB of produce requests reports forced scavenges
// ("testing" is V8's reason for a collection asked for by gc()), and still stores every record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';

describe('GC pacing in the broker process', () => {
  let broker: SpawnedBroker;
  let raw: RawClient;
  beforeAll(async () => {
    // sh runs node with --trace-gc in front of the broker's own arguments.
    broker = await spawnBroker({ launcher: ['sh', '-c', 'exec "$0" --trace-gc "$@"'] });
    raw = await RawClient.connect(broker.port);
    const res = await raw.request(19, 4, { topics: [{ name: 'paced', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    expect(res.topics[0].errorCode).toBe(0);
  });
  afterAll(async () => {
    raw?.close();
    await broker?.stop();
  });

  it('collects the young generation as produce requests arrive', async () => {
    const value = Buffer.alloc(1000, 0x61);
    const forced = () => broker.output().split('\n').filter((l) => /Scavenge.*testing/.test(l)).length;
    const before = forced();
    const batch = buildRecordBatch(Array.from({ length: 1000 }, () => ({ key: null, value })));
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => raw.request(0, 9, { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: 'paced', partitionData: [{ index: 0, records: batch }] }] })),
    );
    expect(answers.map((a: any) => a.responses[0].partitionResponses[0].errorCode)).toEqual(Array(12).fill(0));
    expect(Number(answers[11].responses[0].partitionResponses[0].baseOffset)).toBe(11_000);
    // 12 x ~1 MB: at least two 4 MiB steps.
    expect(forced() - before).toBeGreaterThanOrEqual(2);
  });
});
