// Leader epochs as Apache Kafka 4.4 (KRaft) serves them, and kts the same for the same history:
//  - OffsetForLeaderEpoch v0-v4 (API 23): where an epoch ended, (-1, -1) for one the log cannot
//    place, UNKNOWN_LEADER_EPOCH for a current leader epoch newer than the broker's, unknown topics;
//  - the leader's epoch stamped into every stored batch (producers send -1), and answered by
//    Metadata, ListOffsets and checked by Fetch; Fetch v12's divergingEpoch for a fetcher whose last
//    fetched epoch ended before its position;
//  - leader-epoch-checkpoint in the partition directory, byte for byte;
//  - the Java consumer (Kafka 4.4's console consumer) validating a committed position with
//    OffsetForLeaderEpoch (KIP-320): a committed offset past the end of its epoch is detected as
//    truncation and the consumer resumes at the epoch's end instead of resetting to the beginning.
// The kts answers are checked against fixed expectations; the same requests go to Kafka 4.4 when its
// jars are there (always in CI) and must get the same answers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, type RealKafka, type RecordingProxy, requestRecordingProxy, runKafkaTool, startRealKafka } from '../../helpers/real-kafka.js';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';

const installed = !!kafkaLib(KAFKA_4);
const TOPIC = 'epochs';
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const UNKNOWN_LEADER_EPOCH = 75;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function createTopic(raw: RawClient, name: string): Promise<number> {
  const res = await raw.request(19, 4, { topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30000, validateOnly: false });
  expect(res.topics[0].errorCode).toBe(0);
  // The leader's epoch, once it has one (Kafka elects it a moment after the create).
  return until('a leader', async () => {
    const md = await raw.request(3, 9, { topics: [{ name }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const p = md.topics[0]?.partitions[0];
    return p && p.errorCode === 0 && p.leaderId >= 0 ? (p.leaderEpoch as number) : undefined;
  });
}

async function produce(raw: RawClient, values: string[]): Promise<number> {
  const records = buildRecordBatch(values.map((value) => ({ key: null, value, timestamp: Date.now() })));
  for (;;) {
    const res = await raw.request(0, 9, { transactionalId: null, acks: -1, timeoutMs: 10000, topicData: [{ name: TOPIC, partitionData: [{ index: 0, records }] }] });
    const p = res.responses[0].partitionResponses[0];
    if (p.errorCode === 6 || p.errorCode === 3) continue; // a just-created partition may not have its leader yet
    expect(p.errorCode).toBe(0);
    return Number(p.baseOffset);
  }
}

async function offsetForLeaderEpoch(raw: RawClient, version: number, parts: Array<{ topic?: string; partition?: number; currentLeaderEpoch?: number; leaderEpoch: number }>) {
  // Kafka names a leader in Metadata a moment before that broker serves the partition: wait for it.
  const res = await until('the partition served', async () => {
    const r = await offsetForLeaderEpochOnce(raw, version, parts);
    return r.topics.some((t: any) => t.partitions[0].errorCode === 6) ? undefined : r;
  });
  return res.topics.map((t: any) => {
    const p = t.partitions[0];
    return version >= 1 ? [p.errorCode, p.leaderEpoch, Number(p.endOffset)] : [p.errorCode, Number(p.endOffset)];
  });
}

function offsetForLeaderEpochOnce(raw: RawClient, version: number, parts: Array<{ topic?: string; partition?: number; currentLeaderEpoch?: number; leaderEpoch: number }>) {
  return raw.request(23, version, {
    replicaId: -1,
    topics: parts.map((p) => ({ topic: p.topic ?? TOPIC, partitions: [{ partition: p.partition ?? 0, currentLeaderEpoch: p.currentLeaderEpoch ?? -1, leaderEpoch: p.leaderEpoch }] })),
  });
}

async function fetch12(raw: RawClient, p: { fetchOffset: number; currentLeaderEpoch?: number; lastFetchedEpoch?: number }) {
  const res = await raw.request(1, 12, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: p.currentLeaderEpoch ?? -1, fetchOffset: p.fetchOffset, lastFetchedEpoch: p.lastFetchedEpoch ?? -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  const part = res.responses[0].partitions[0];
  const records: Buffer = part.records ?? Buffer.alloc(0);
  const epochs: number[] = [];
  for (let pos = 0; pos + 61 <= records.length; pos += 12 + records.readInt32BE(pos + 8)) epochs.push(records.readInt32BE(pos + 12));
  // An absent divergingEpoch decodes as its defaults (-1, -1).
  const diverging = part.divergingEpoch && part.divergingEpoch.epoch >= 0 ? [part.divergingEpoch.epoch, Number(part.divergingEpoch.endOffset)] : null;
  return { errorCode: part.errorCode, divergingEpoch: diverging, batchEpochs: epochs };
}

async function listOffsets(raw: RawClient, timestamp: number, currentLeaderEpoch = -1) {
  const res = await raw.request(2, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch, timestamp }] }] });
  const p = res.topics[0].partitions[0];
  return [p.errorCode, Number(p.offset), p.leaderEpoch];
}

/** One history (3 batches: 2, 3 and 1 records) and everything asked about it, relative to the leader epoch E. */
async function observe(port: number, dataDir: string) {
  const raw = await RawClient.connect(port);
  try {
    const E = await createTopic(raw, TOPIC);
    const beforeWrites = await offsetForLeaderEpoch(raw, 4, [{ leaderEpoch: E }]);
    await produce(raw, ['a0', 'a1']);
    await produce(raw, ['b0', 'b1', 'b2']);
    await produce(raw, ['c0']);
    return {
      E,
      beforeWrites,
      v4: await offsetForLeaderEpoch(raw, 4, [{ leaderEpoch: -1 }, { leaderEpoch: E }, { leaderEpoch: E + 1 }, { leaderEpoch: E + 5 }]),
      // v0-v1 are gone from Kafka 4 (KIP-896); kts serves them as Kafka 3.9 does (checked below).
      byVersion: await Promise.all([2, 3].map((v) => offsetForLeaderEpoch(raw, v, [{ leaderEpoch: E }]))),
      currentEpochOk: await offsetForLeaderEpoch(raw, 4, [{ currentLeaderEpoch: E, leaderEpoch: E }]),
      currentEpochNewer: await offsetForLeaderEpoch(raw, 4, [{ currentLeaderEpoch: E + 1, leaderEpoch: E }]),
      unknown: await offsetForLeaderEpoch(raw, 4, [{ topic: 'no-such-topic', leaderEpoch: 0 }, { partition: 7, leaderEpoch: 0 }]),
      listLatest: await listOffsets(raw, -1),
      listEarliest: await listOffsets(raw, -2),
      listNewerEpoch: await listOffsets(raw, -1, E + 1),
      fetch: await fetch12(raw, { fetchOffset: 0, currentLeaderEpoch: E }),
      fetchNewerEpoch: await fetch12(raw, { fetchOffset: 0, currentLeaderEpoch: E + 1 }),
      fetchDiverged: await fetch12(raw, { fetchOffset: 9, lastFetchedEpoch: E }),
      fetchInEpoch: await fetch12(raw, { fetchOffset: 6, lastFetchedEpoch: E }),
      checkpoint: await until('leader-epoch-checkpoint', async () => {
        try {
          return readFileSync(join(dataDir, `${TOPIC}-0`, 'leader-epoch-checkpoint'), 'utf8');
        } catch {
          return undefined;
        }
      }),
    };
  } finally {
    raw.close();
  }
}

function expected(E: number) {
  return {
    E,
    beforeWrites: [[0, E, 0]],
    v4: [
      [0, -1, -1],
      [0, E, 6],
      [0, -1, -1],
      [0, -1, -1],
    ],
    byVersion: [[[0, E, 6]], [[0, E, 6]]],
    currentEpochOk: [[0, E, 6]],
    currentEpochNewer: [[UNKNOWN_LEADER_EPOCH, -1, -1]],
    unknown: [
      [UNKNOWN_TOPIC_OR_PARTITION, -1, -1],
      [UNKNOWN_TOPIC_OR_PARTITION, -1, -1],
    ],
    listLatest: [0, 6, E],
    listEarliest: [0, 0, E],
    listNewerEpoch: [UNKNOWN_LEADER_EPOCH, -1, -1],
    fetch: { errorCode: 0, divergingEpoch: null, batchEpochs: [E, E, E] },
    fetchNewerEpoch: { errorCode: UNKNOWN_LEADER_EPOCH, divergingEpoch: null, batchEpochs: [] },
    fetchDiverged: { errorCode: 0, divergingEpoch: [E, 6], batchEpochs: [] },
    fetchInEpoch: { errorCode: 0, divergingEpoch: null, batchEpochs: [] },
    checkpoint: `0\n1\n${E} 0\n`,
  };
}

describe('leader epochs: OffsetForLeaderEpoch, stamped batches, the checkpoint file', () => {
  let broker: SpawnedBroker;
  let kafka: RealKafka | undefined;
  let kts: Awaited<ReturnType<typeof observe>>;

  beforeAll(async () => {
    broker = await spawnBroker();
    kts = await observe(broker.port, broker.dataDir);
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
    await kafka?.stop();
  }, 60_000);

  it('kts answers as Kafka specifies for a one-epoch history', () => {
    expect(kts).toEqual(expected(kts.E));
    expect(kts.E).toBe(0);
  });

  it('kts serves v0 and v1 as Kafka 3.9 does (v0 answers no epoch)', async () => {
    const raw = await RawClient.connect(broker.port);
    try {
      expect(await offsetForLeaderEpoch(raw, 0, [{ leaderEpoch: 0 }, { leaderEpoch: 3 }])).toEqual([[0, 6], [0, -1]]);
      expect(await offsetForLeaderEpoch(raw, 1, [{ leaderEpoch: 0 }])).toEqual([[0, 0, 6]]);
      const versions = await raw.request(18, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
      const api = versions.apiKeys.find((k: any) => k.apiKey === 23);
      expect([api.minVersion, api.maxVersion]).toEqual([0, 4]);
    } finally {
      raw.close();
    }
  });

  it.skipIf(!installed)('Kafka 4.4 gives the same answers for the same history', async () => {
    kafka = await startRealKafka(KAFKA_4);
    const real = await observe(kafka.port, kafka.dataDir);
    expect(real).toEqual(kts);
  }, 240_000);
});

describe.skipIf(!installed)("Kafka 4.4's consumer validates its committed position with OffsetForLeaderEpoch (KIP-320)", () => {
  const proxies: RecordingProxy[] = [];
  const brokers: Array<SpawnedBroker | RealKafka> = [];
  afterAll(async () => {
    for (const p of proxies) await p.close();
    for (const b of brokers) await b.stop();
  }, 60_000);

  /**
   * 10 records, and a group committed at offset 100 in their epoch. With the position validated
   * (OffsetForLeaderEpoch: epoch E ends at 10 < 100, truncation) the consumer resumes at 10, reads
   * nothing and commits 10; unvalidated, the fetch at 100 is out of range and auto.offset.reset=earliest
   * would read m0 again.
   */
  async function scenario(bootstrap: string, port: number) {
    const raw = await RawClient.connect(port);
    try {
      const E = await createTopic(raw, TOPIC);
      await produce(raw, Array.from({ length: 10 }, (_, i) => `m${i}`));
      // A committed position past the end of its epoch: the records it counted were truncated away.
      // Kafka's group coordinator needs a moment (creating __consumer_offsets) before it takes commits.
      await until('the group coordinator', async () => {
        const found = await raw.request(10, 3, { key: 'g', keyType: 0 });
        if (found.errorCode !== 0) return undefined;
        const commit = await raw.request(8, 8, {
          groupId: 'g',
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 100, committedLeaderEpoch: E, committedMetadata: '' }] }],
        });
        const code = commit.topics[0].partitions[0].errorCode;
        if ([14, 15, 16].includes(code)) return undefined; // loading, not available, not coordinator yet
        expect(code).toBe(0);
        return true;
      }, 60_000);
      const r = await runKafkaTool(
        KAFKA_4,
        'console-consumer',
        ['--bootstrap-server', bootstrap, '--topic', TOPIC, '--group', 'g', '--max-messages', '1', '--command-property', 'auto.offset.reset=earliest', '--timeout-ms', '8000'],
        { timeoutMs: 90_000 },
      );
      const fetched = await raw.request(9, 8, { groups: [{ groupId: 'g', topics: [{ name: TOPIC, partitionIndexes: [0] }] }], requireStable: false });
      const committed = fetched.groups[0].topics[0].partitions[0];
      return { code: r.code, stdout: r.stdout, committed: [Number(committed.committedOffset), committed.committedLeaderEpoch], stderr: r.stderr };
    } finally {
      raw.close();
    }
  }

  it('kts: the truncation is detected and the consumer resumes at the epoch end, as on Kafka 4.4', async () => {
    const ktsPort = await freePort();
    const ktsProxy = await requestRecordingProxy(ktsPort);
    proxies.push(ktsProxy);
    const broker = await spawnBroker({ port: ktsPort, overrides: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${ktsProxy.port}` } });
    brokers.push(broker);
    const onKts = await scenario(`127.0.0.1:${ktsProxy.port}`, ktsPort);
    // Validation sent OffsetForLeaderEpoch; the position went to the epoch's end (10), not to the beginning.
    expect(ktsProxy.requests.some((q) => q.apiKey === 23)).toBe(true);
    expect(onKts.stdout, onKts.stderr).toBe('');
    expect(onKts.committed).toEqual([10, 0]);

    const kafka = await startRealKafka(KAFKA_4);
    brokers.push(kafka);
    const onKafka = await scenario(kafka.bootstrap, kafka.port);
    expect({ ...onKafka, stderr: undefined }).toEqual({ ...onKts, stderr: undefined });
  }, 300_000);
});
