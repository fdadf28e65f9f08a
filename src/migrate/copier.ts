// The copy itself: rounds of (fetch every unfinished source partition, produce what came back to the
// target, note the offset mapping and progress in the offset-syncs topic). The source is read
// read_committed up to the end taken when the run started (its last stable offset), so a rerun
// copies what arrived since. The target is written by one idempotent producer (InitProducerId, no
// transactional id): a Produce retried after a lost answer is deduplicated by the broker, so a
// retry never writes a record twice. One batch per partition is in flight at a time (a Produce
// request holds one batch per partition); partitions go in parallel, one request per target leader.
import { ErrorCode } from '../protocol/index.js';
import type { FetchedRecord, KafkaClient } from '../client/index.js';
import { KafkaClientError, isRetriable, kafkaError } from '../client/errors.js';
import { groupByTopic } from '../client/admin.js';
import { routeToLeaders, tpKey } from '../client/routing.js';
import { API } from '../client/versions.js';
import { type FetchPartitionRequest, sendFetch } from '../client/fetch-request.js';
import { nextSequence, planChunk, stampBatch, type ProduceUnit } from './batches.js';
import type { OffsetSyncs } from './offset-syncs.js';

export interface PartitionCopy {
  topic: string;
  partition: number;
  /** The source topic's id, kept in the progress record (a topic deleted and recreated is not resumed). */
  topicId: string;
  /** Where the copy of this run starts in the source. */
  srcStart: number;
  /** The next source offset to copy. */
  srcNext: number;
  /** Copy up to here (exclusive): the source's last stable offset when the run started. */
  end: number;
  /** The target partition's next offset. */
  tgtNext: number;
  records: number;
  bytes: number;
  /** Past the last record acknowledged by the target (for the progress bar; srcNext moves per round). */
  srcCopied?: number;
}

export interface CopyProgress {
  records: number;
  bytes: number;
  /** Offsets covered (copied or skipped) out of `offsetsTotal`, for a progress bar. */
  offsetsDone: number;
  offsetsTotal: number;
}

export interface CopyOptions {
  /** Bytes per second at most (0: no limit). */
  throttleBytesPerSecond?: number;
  onProgress?(p: CopyProgress): void;
  /** Producer for the offset-syncs records. */
  flushSyncs(): Promise<void>;
}

const FETCH_PARTITION_BYTES = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The target's idempotent producer identity and each partition's next sequence. */
export class IdempotentWriter {
  private readonly sequences = new Map<string, number>();

  private constructor(
    private readonly target: KafkaClient,
    readonly producerId: number,
    readonly producerEpoch: number,
  ) {}

  static async open(target: KafkaClient): Promise<IdempotentWriter> {
    for (let attempt = 0; ; attempt++) {
      const conn = await target.cluster.any();
      const body = await conn.request(API.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
      if (body.errorCode === 0) return new IdempotentWriter(target, Number(body.producerId), body.producerEpoch);
      if (!isRetriable(body.errorCode) || attempt >= 20) throw kafkaError(body.errorCode);
      await sleep(Math.min(100 * (attempt + 1), 1000));
    }
  }

  /**
   * Produces one unit per partition (acks=all), retrying what failed for a retriable reason with
   * the same sequence. Resolves with each partition's base offset.
   */
  async produce(items: { topic: string; partition: number; unit: ProduceUnit }[]): Promise<Map<string, number>> {
    const stamped = items.map((i) => {
      const key = tpKey(i.topic, i.partition);
      const seq = this.sequences.get(key) ?? 0;
      stampBatch(i.unit.batch, this.producerId, this.producerEpoch, seq);
      return { ...i, seq };
    });
    const results = new Map<string, number>();
    let pending = stamped;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const answers = await routeToLeaders(this.target.cluster, pending, async (conn, batch) => {
        const body = await conn.request(
          API.Produce,
          {
            transactionalId: null,
            acks: -1,
            timeoutMs: 30000,
            topicData: groupByTopic(batch).map(([name, parts]) => ({ name, partitionData: parts.map((p) => ({ index: p.partition, records: p.unit.batch })) })),
          },
          { timeoutMs: 60000 },
        );
        const m = new Map<string, { errorCode: number; baseOffset: number; errorMessage?: string | null }>();
        for (const t of body.responses) for (const p of t.partitionResponses) m.set(tpKey(t.name, p.index), p);
        return m;
      });
      const retry: typeof pending = [];
      for (const item of pending) {
        const key = tpKey(item.topic, item.partition);
        const a = answers.get(key) as { errorCode: number; baseOffset?: number; errorMessage?: string | null } | undefined;
        const code = a?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        if (code === 0) {
          results.set(key, Number(a!.baseOffset));
          this.sequences.set(key, nextSequence(item.seq, item.unit.recordCount));
        } else if (isRetriable(code) && attempt < 10) {
          retry.push(item);
        } else {
          const e = kafkaError(code, a?.errorMessage);
          throw new KafkaClientError(`Producing to ${item.topic}-${item.partition} on the target failed: ${e.javaString}`, { code });
        }
      }
      pending = retry;
      if (pending.length > 0) await sleep(Math.min(100 * attempt, 1000));
    }
    return results;
  }
}

interface RawFetched {
  errorCode: number;
  records: Buffer | null;
  abortedTransactions: { producerId: number; firstOffset: number }[];
}

/** One read_committed Fetch round of the partitions given, from their leaders, bytes undecoded. */
async function fetchRaw(source: KafkaClient, parts: PartitionCopy[]): Promise<Map<string, RawFetched | { errorCode: number }>> {
  return routeToLeaders(source.cluster, parts, async (conn, batch) => {
    const topics = groupByTopic(batch).map(([topic, items]) => [topic, items.map((i) => ({ partition: i.partition, fetchOffset: i.srcNext, partitionMaxBytes: FETCH_PARTITION_BYTES }))] as [string, FetchPartitionRequest[]]);
    const answered = await sendFetch(conn, source.cluster, topics, { maxWaitMs: 100, minBytes: 1, maxBytes: 64 * 1024 * 1024, isolationLevel: 1, timeoutMs: 60000 });
    const m = new Map<string, RawFetched>();
    for (const t of answered) {
      for (const p of t.partitions) {
        m.set(tpKey(t.topic, p.partitionIndex), {
          errorCode: p.errorCode,
          records: p.records ?? null,
          abortedTransactions: (p.abortedTransactions ?? []).map((a) => ({ producerId: Number(a.producerId), firstOffset: Number(a.firstOffset) })),
        });
      }
    }
    return m;
  });
}

/** Copies every partition up to its `end`, noting the mapping and progress after each round. */
export async function copyPartitions(source: KafkaClient, writer: IdempotentWriter, syncs: OffsetSyncs, parts: PartitionCopy[], opts: CopyOptions): Promise<void> {
  const offsetsTotal = parts.reduce((n, p) => n + Math.max(0, p.end - p.srcStart), 0);
  const report = (): void =>
    opts.onProgress?.({
      records: parts.reduce((n, p) => n + p.records, 0),
      bytes: parts.reduce((n, p) => n + p.bytes, 0),
      offsetsDone: parts.reduce((n, p) => n + Math.max(0, Math.min(Math.max(p.srcNext, p.srcCopied ?? 0), p.end) - p.srcStart), 0),
      offsetsTotal,
    });
  report();
  const started = Date.now();
  let bytesSent = 0;
  let idleRounds = 0;
  /** --throttle: after each produce, wait until the bytes sent so far are within the rate. */
  const throttle = async (): Promise<void> => {
    const limit = opts.throttleBytesPerSecond ?? 0;
    if (limit <= 0) return;
    const due = started + (bytesSent / limit) * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
  };
  for (;;) {
    const open = parts.filter((p) => p.srcNext < p.end);
    if (open.length === 0) break;
    const before = open.map((p) => p.srcNext);
    const fetched = await fetchRaw(source, open);
    const queues = new Map<PartitionCopy, ProduceUnit[]>();
    for (const p of open) {
      const f = fetched.get(tpKey(p.topic, p.partition));
      if (!f || f.errorCode !== 0 || !('records' in f)) {
        const code = f?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
          // The source deleted records (retention, delete-records) before they were copied: go on
          // from its new start; the hole gets a sync like any other.
          const [earliest] = await source.admin.listOffsets([{ topic: p.topic, partition: p.partition, timestamp: -2 }]);
          if (earliest.error) throw earliest.error;
          if (earliest.offset > p.srcNext) p.srcNext = Math.min(earliest.offset, p.end);
          continue;
        }
        if (isRetriable(code)) continue;
        throw new KafkaClientError(`Fetching ${p.topic}-${p.partition} from the source failed: ${kafkaError(code).javaString}`, { code });
      }
      const plan = planChunk(f.records, p.srcNext, p.end, f.abortedTransactions);
      queues.set(p, plan.units);
      // srcNext moves once the units are acknowledged (below); kept aside until then.
      (p as PartitionCopy & { planned?: number }).planned = plan.srcNext;
    }
    // Produce: one unit per partition per request, until every queue is empty.
    for (;;) {
      const wave = [...queues].filter(([, q]) => q.length > 0).map(([p, q]) => ({ p, unit: q[0] }));
      if (wave.length === 0) break;
      const offsets = await writer.produce(wave.map(({ p, unit }) => ({ topic: p.topic, partition: p.partition, unit })));
      for (const { p, unit } of wave) {
        const base = offsets.get(tpKey(p.topic, p.partition))!;
        if (base !== p.tgtNext) {
          throw new KafkaClientError(
            `Target partition ${p.topic}-${p.partition} took records at offset ${base}, expected ${p.tgtNext}: something else writes to it. Stop other writers and run kts migrate again.`,
          );
        }
        syncs.copied(p.topic, p.partition, unit.runs, base);
        const lastRun = unit.runs[unit.runs.length - 1];
        p.srcCopied = lastRun.src + lastRun.count;
        p.tgtNext = base + unit.recordCount;
        p.records += unit.recordCount;
        p.bytes += unit.batch.length;
        bytesSent += unit.batch.length;
        queues.get(p)!.shift();
      }
      report();
      await throttle();
    }
    for (const p of queues.keys()) {
      const planned = (p as PartitionCopy & { planned?: number }).planned!;
      p.srcNext = planned;
      syncs.setProgress(p.topic, p.partition, { src: p.srcNext, tgt: p.tgtNext, topicId: p.topicId });
    }
    await opts.flushSyncs();
    report();
    // A source that answers without moving any partition forward (leaders moving, a fetch answered
    // empty) is asked again, for a while.
    idleRounds = open.some((p, i) => p.srcNext > before[i]) ? 0 : idleRounds + 1;
    if (idleRounds >= 100) throw new KafkaClientError(`The source stopped returning records (${open.map((p) => `${p.topic}-${p.partition} at ${p.srcNext} of ${p.end}`).join(', ')}).`);
    if (idleRounds > 0) await sleep(Math.min(50 * idleRounds, 500));
  }
}

/** What a record on either side holds, for checking that two are the same. */
export function sameRecord(a: FetchedRecord, b: FetchedRecord): boolean {
  const eq = (x: Buffer | null, y: Buffer | null): boolean => (x === null ? y === null : y !== null && x.equals(y));
  if (a.timestamp !== b.timestamp || !eq(a.key, b.key) || !eq(a.value, b.value) || a.headers.length !== b.headers.length) return false;
  return a.headers.every((h, i) => h.key === b.headers[i].key && eq(h.value, b.headers[i].value));
}

/**
 * After an interruption the target partition may hold `tgtEnd - p.tgtNext` records more than the
 * last progress says (acknowledged, then killed before the progress write). They are the next
 * copied records of the source after p.srcNext: count them (read_committed, as the copy reads),
 * note their mapping, check the last against the target's last record, and move p past them.
 */
export async function catchUpWithTarget(source: KafkaClient, target: KafkaClient, syncs: OffsetSyncs, p: PartitionCopy, tgtEnd: number): Promise<void> {
  let missing = tgtEnd - p.tgtNext;
  let last: FetchedRecord | null = null;
  let offset = p.srcNext;
  while (missing > 0) {
    const [f] = await source.fetch([{ topic: p.topic, partition: p.partition, offset, maxBytes: FETCH_PARTITION_BYTES }], { isolationLevel: 1, maxWaitMs: 100 });
    if (f.error) throw new KafkaClientError(`Reading ${p.topic}-${p.partition} from the source failed: ${f.error.javaString}`);
    if (f.records.length === 0 && f.nextOffset <= offset) {
      throw new KafkaClientError(
        `Target partition ${p.topic}-${p.partition} has ${missing} records more than the source has after offset ${offset}: it was not written by this migration alone.`,
      );
    }
    const taken = f.records.slice(0, missing);
    let tgt = p.tgtNext;
    const runs: { src: number; count: number }[] = [];
    for (const r of taken) {
      const run = runs[runs.length - 1];
      if (run && run.src + run.count === r.offset) run.count++;
      else runs.push({ src: r.offset, count: 1 });
    }
    syncs.copied(p.topic, p.partition, runs, tgt);
    tgt += taken.length;
    p.tgtNext = tgt;
    missing -= taken.length;
    if (taken.length > 0) {
      last = taken[taken.length - 1];
      p.srcNext = last.offset + 1;
    }
    offset = missing > 0 ? f.nextOffset : p.srcNext;
  }
  if (!last) return;
  const [t] = await target.fetch([{ topic: p.topic, partition: p.partition, offset: tgtEnd - 1 }], { maxWaitMs: 100 });
  const mine = t.records.find((r) => r.offset === tgtEnd - 1);
  if (!mine || !sameRecord(mine, last)) {
    throw new KafkaClientError(
      `Target partition ${p.topic}-${p.partition}: its last record (offset ${tgtEnd - 1}) is not source record ${last.offset}; the target was changed outside this migration.`,
    );
  }
  syncs.setProgress(p.topic, p.partition, { src: p.srcNext, tgt: p.tgtNext, topicId: p.topicId });
}
