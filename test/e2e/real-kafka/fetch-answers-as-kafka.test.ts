// A consume from the beginning, fetch by fetch, as kcat 1.7 (librdkafka 2.0.2) asks it, answered by
// kts as Apache Kafka 4.4 answers it (issue 13, the consume benchmark): the same batches (kcat's
// layout of full ~1 MB batches of 9,164 records of 99 B between smaller ones) produced to both, then
// ListOffsets v2 for the log start and end and Fetch v11 (read_committed, 1 MiB per partition, 50 MiB
// per answer, 500 ms wait, no fetch session) from each answer's next offset to the log end. Every field
// of every answer must be Kafka's (errors, throttle, session, high watermark, last stable offset, log
// start, aborted transactions, preferred replica), the records the same batches byte for byte, and
// the fetch at the log end held for fetch.wait.max.ms on both. Twice: in one segment (the bench's
// case, 1 GiB segments) and with segments rolled every ~3 MB (an answer ends at its segment's end on
// both). The one difference kept: Kafka sends
// the 1 MiB byte range of its segment, so an answer ends with the head of the next batch, cut off,
// which a client drops and fetches again; kts ends each answer at its last whole batch. The test pins
// that too: kts's records are Kafka's up to its last whole batch, and what Kafka sends beyond is less
// than one batch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecordBatch, iterateBatches } from '../../../src/protocol/records/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';

const T0 = Date.UTC(2026, 0, 1);
// Records per batch, as kcat's producer cut them in the bench (full batches are 999,908 B).
const LAYOUT = [9164, 836, 9164, 3510, 9164, 9164, 2146, 9164, 496, 9164, 9164, 9164];
const PARTITION_MAX = 1 << 20;

function batches(): Buffer[] {
  let n = 0;
  return LAYOUT.map((count) =>
    buildRecordBatch(
      Array.from({ length: count }, () => ({ value: Buffer.from(`{"seq":${n++}}`.padEnd(99, 'x')), timestamp: T0 + n })),
      { now: T0 },
    ),
  );
}

/** librdkafka 2.0.2's Fetch v11 for one partition. */
function kcatFetch(topic: string, offset: number, maxWaitMs: number) {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 52_428_800,
    isolationLevel: 1,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: PARTITION_MAX }] }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

interface Answer {
  fields: Record<string, unknown>;
  records: Buffer;
  heldMs: number;
}

interface Consume {
  listOffsets: unknown[];
  answers: Answer[];
  atEnd: Answer;
}

async function consume(port: number, topic: string, segmentBytes?: number): Promise<Consume> {
  const raw = await RawClient.connect(port);
  try {
    const configs = segmentBytes ? [{ name: 'segment.bytes', value: String(segmentBytes) }] : [];
    const created = await raw.request(19, 4, { topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs }], timeoutMs: 30000, validateOnly: false });
    expect(created.topics[0].errorCode).toBe(0);
    for (const batch of batches()) {
      for (;;) {
        const res = await raw.request(0, 3, { transactionalId: null, acks: 1, timeoutMs: 10000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
        const code = res.responses[0].partitionResponses[0].errorCode;
        if (code === 6 || code === 3) {
          await new Promise((r) => setTimeout(r, 100)); // the new topic's leader not there yet
          continue;
        }
        expect(code).toBe(0);
        break;
      }
    }
    const listOffsets = [];
    for (const timestamp of [-2, -1]) {
      const res = await raw.request(2, 2, { replicaId: -1, isolationLevel: 1, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp }] }] });
      listOffsets.push({ throttle: res.throttleTimeMs, ...res.topics[0].partitions[0] });
    }
    const fetch = async (offset: number, maxWaitMs: number): Promise<Answer> => {
      const t0 = performance.now();
      const res = await raw.request(1, 11, kcatFetch(topic, offset, maxWaitMs));
      const heldMs = performance.now() - t0;
      const { records, ...partition } = res.responses[0].partitions[0];
      const fields = { throttleTimeMs: res.throttleTimeMs, errorCode: res.errorCode, sessionId: res.sessionId, topic: res.responses[0].topic, ...partition };
      return { fields, records: (records as Buffer | null) ?? Buffer.alloc(0), heldMs };
    };
    const answers: Answer[] = [];
    let offset = 0;
    const total = LAYOUT.reduce((a, b) => a + b, 0);
    while (offset < total) {
      const a = await fetch(offset, 500);
      answers.push(a);
      let next = offset;
      for (const { header } of iterateBatches(a.records)) next = header.baseOffset + header.lastOffsetDelta + 1;
      expect(next, `no whole batch from ${offset}`).toBeGreaterThan(offset);
      offset = next;
    }
    return { listOffsets, answers, atEnd: await fetch(offset, 500) };
  } finally {
    raw.close();
  }
}

/** The bytes of the whole batches at the start of `records`. */
function wholeBatches(records: Buffer): number {
  let end = 0;
  for (const { position, header } of iterateBatches(records)) end = position + 12 + header.batchLength;
  return end;
}

describe.skipIf(!kafkaLib(KAFKA_4))("a kcat consume's fetches answered as Kafka 4.4 answers them", () => {
  let kts: SpawnedBroker | undefined;
  let kafka: RealKafka | undefined;
  beforeAll(async () => {
    [kafka, kts] = await Promise.all([startRealKafka(KAFKA_4), spawnBroker()]);
  }, 180_000);
  afterAll(async () => {
    await kts?.stop();
    await kafka?.stop();
  });

  for (const [name, topic, segmentBytes] of [
    ['one segment', 'kcat-layout', undefined],
    ['segments of ~3 MB', 'kcat-layout-rolled', 3_000_000],
  ] as const) {
    describe(name, () => {
      let ours: Consume;
      let theirs: Consume;
      beforeAll(async () => {
        theirs = await consume(kafka!.port, topic, segmentBytes);
        ours = await consume(kts!.port, topic, segmentBytes);
      }, 120_000);

      it('ListOffsets for the log start and end, then every Fetch answer field, are Kafka\'s', () => {
        expect(ours.listOffsets).toEqual(theirs.listOffsets);
        expect(ours.answers.length).toBe(theirs.answers.length);
        expect(ours.answers.map((a) => a.fields)).toEqual(theirs.answers.map((a) => a.fields));
        expect(ours.atEnd.fields).toEqual(theirs.atEnd.fields);
      });

      it('every answer holds the same whole batches, byte for byte; Kafka adds the cut-off head of the next one', () => {
        for (let i = 0; i < theirs.answers.length; i++) {
          const kafkaRecords = theirs.answers[i].records;
          const whole = wholeBatches(kafkaRecords);
          expect(ours.answers[i].records.equals(kafkaRecords.subarray(0, whole)), `answer ${i}`).toBe(true);
          const tail = kafkaRecords.length - whole;
          if (tail > 0) {
            // A batch's head (its length says more than was sent), and the answer at the partition's limit.
            expect(kafkaRecords.length).toBe(PARTITION_MAX);
            expect(12 + kafkaRecords.readInt32BE(whole + 8)).toBeGreaterThan(tail);
          }
        }
        // The layout makes Kafka cut batches: the difference is there to be seen.
        expect(theirs.answers.some((a) => a.records.length > wholeBatches(a.records))).toBe(true);
        // At a segment's end both stop, with nothing cut off.
        if (segmentBytes) expect(theirs.answers.some((a) => a.records.length < PARTITION_MAX && a.records.length === wholeBatches(a.records) && a !== theirs.answers.at(-1))).toBe(true);
      });

      it('the fetch at the log end waits fetch.wait.max.ms on both and brings no records', () => {
        for (const c of [ours, theirs]) {
          expect(c.atEnd.records.length).toBe(0);
          expect(c.atEnd.heldMs).toBeGreaterThanOrEqual(450);
          // Held for the wait, not for anything longer (the request timeout is 30 s); the margin is for a
          // loaded machine, where either server (a JVM among them) can answer a second or more late.
          expect(c.atEnd.heldMs).toBeLessThan(5000);
        }
      });
    });
  }
});
