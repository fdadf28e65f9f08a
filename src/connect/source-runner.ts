// Runs one source task: poll, transform, convert, produce, commit offsets. A "unit" is what one
// poll returned; before it is sent, its plan (partitions, sequence numbers) is written to the
// offsets file, and after every batch of it is acknowledged, the offsets of its records are. A
// worker killed in between replays the unit on restart with the same producer id and sequence
// numbers, and the broker drops what it already has: no record lost, none written twice.
import type { Cluster } from '../client/cluster.js';
import { partitionForKey } from '../client/partitioner.js';
import type { SourceRecord, SourceTask } from './api.js';
import type { Converter } from './converters.js';
import { initProducerId, sendBatch, SequenceError, type OutgoingRecord } from './idempotent-producer.js';
import type { FileOffsetStore, PendingUnit } from './offset-store.js';
import type { ConnectRecord } from './transforms.js';
import { TaskRunner, type RunnerDeps } from './task-runner.js';

export interface SourceRunnerDeps extends RunnerDeps {
  cluster: Cluster;
  store: FileOffsetStore;
  keyConverter: Converter;
  valueConverter: Converter;
  transform: (r: ConnectRecord) => ConnectRecord | null;
}

interface Routed {
  topic: string;
  partition: number;
  record: OutgoingRecord;
}

const tpKey = (topic: string, partition: number): string => `${topic}-${partition}`;

export class SourceTaskRunner extends TaskRunner {
  constructor(
    private readonly task: SourceTask,
    private readonly deps: SourceRunnerDeps,
  ) {
    super(deps);
  }

  protected async work(): Promise<void> {
    const { store, connector } = { store: this.deps.store, connector: this.deps.connector };
    await this.task.start(this.deps.config, { offset: (p) => store.offset(connector, p) });
    this.started();
    const state = store.state(connector);
    let replay: PendingUnit | undefined = state.pending;
    if (!state.producer) {
      state.producer = { ...(await initProducerId(this.deps.cluster)), sequences: {} };
      await store.save(connector);
    }
    let queue: SourceRecord[] = [];
    while (!this.stopping) {
      if (this.paused) {
        await this.waitWhilePaused();
        continue;
      }
      if (queue.length === 0) {
        const polled = await this.task.poll();
        if (!polled || polled.length === 0) {
          await this.idle(100);
          continue;
        }
        queue = polled;
      }
      const take = replay ? Math.min(replay.total, queue.length) : queue.length;
      const unit = queue.slice(0, take);
      queue = queue.slice(take);
      await this.sendUnit(unit, replay);
      replay = undefined;
      await this.task.commit?.();
    }
  }

  private async sendUnit(unit: SourceRecord[], replay: PendingUnit | undefined): Promise<void> {
    const { store, connector, cluster } = this.deps;
    const state = store.state(connector);
    const sticky: Record<string, number> = { ...(replay?.sticky ?? {}) };
    const routed: Routed[] = [];
    for (const r of unit) {
      const t = this.deps.transform(r);
      if (t === null) continue;
      const key = this.deps.keyConverter.fromConnectData(t.topic, t.keySchema ?? null, t.key ?? null);
      const value = this.deps.valueConverter.fromConnectData(t.topic, t.valueSchema ?? null, t.value);
      const md = await this.topicReady(t.topic);
      const n = md.partitions.length;
      let partition: number;
      if (t.kafkaPartition !== undefined && t.kafkaPartition !== null) partition = t.kafkaPartition;
      else if (key !== null) partition = partitionForKey(key, n);
      else partition = sticky[t.topic] ??= Math.floor(Math.random() * n);
      const headers = (t.headers ?? []).map((h) => ({ key: h.key, value: typeof h.value === 'string' ? Buffer.from(h.value, 'utf8') : h.value }));
      routed.push({ topic: t.topic, partition, record: { key, value, headers, timestamp: t.timestamp ?? Date.now() } });
    }
    const groups = new Map<string, Routed[]>();
    for (const r of routed) {
      const k = tpKey(r.topic, r.partition);
      const list = groups.get(k) ?? [];
      list.push(r);
      groups.set(k, list);
    }
    const sequences = state.producer!.sequences;
    let plan: PendingUnit = {
      total: unit.length,
      sticky,
      batches: [...groups].map(([k, list]) => ({ topic: list[0].topic, partition: list[0].partition, baseSequence: sequences[k] ?? 0, count: list.length })),
    };
    if (replay && !samePlan(replay, plan)) {
      // What poll() gave this time is not what was sent before the crash: the broker cannot tell
      // duplicates apart, so start a new producer (records of that unit may then appear twice).
      this.deps.log(`WARN source task ${connector}-${this.deps.taskId}: replayed records differ from the unconfirmed batch; sending them as new`);
      state.producer = { ...(await initProducerId(cluster)), sequences: {} };
      plan = { ...plan, batches: plan.batches.map((b) => ({ ...b, baseSequence: 0 })) };
    }
    state.pending = plan;
    await store.save(connector);
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        await Promise.all(
          plan.batches.map((b) => sendBatch(cluster, state.producer!, b.topic, b.partition, b.baseSequence, groups.get(tpKey(b.topic, b.partition))!.map((r) => r.record), deadline)),
        );
        break;
      } catch (err) {
        if (!(err instanceof SequenceError)) throw err;
        this.deps.log(`WARN source task ${connector}-${this.deps.taskId}: ${err.message}; starting a new producer id`);
        state.producer = { ...(await initProducerId(cluster)), sequences: {} };
        plan = { ...plan, batches: plan.batches.map((b) => ({ ...b, baseSequence: 0 })) };
        state.pending = plan;
        await store.save(connector);
      }
    }
    for (const b of plan.batches) state.producer!.sequences[tpKey(b.topic, b.partition)] = b.baseSequence + b.count;
    for (const r of unit) if (r.sourcePartition && r.sourceOffset) store.setOffset(connector, r.sourcePartition, r.sourceOffset);
    delete state.pending;
    await store.save(connector);
  }

  /** The topic's metadata, asking the broker to create it (auto.create.topics.enable) when missing. */
  private async topicReady(topic: string): Promise<{ partitions: unknown[] }> {
    const cluster = this.deps.cluster;
    for (let attempt = 0; ; attempt++) {
      const known = cluster.topic(topic);
      if (known && known.errorCode === 0 && known.partitions.length > 0) return known;
      await cluster.refresh([topic], { allowAutoCreate: true });
      const t = cluster.topic(topic);
      if (t && t.errorCode === 0 && t.partitions.length > 0) return t;
      if (this.stopping || attempt > 100) throw new Error(`Topic ${topic} is not available (error ${t?.errorCode})`);
      await this.idle(Math.min(50 * 2 ** attempt, 1000));
    }
  }

  protected async cleanup(): Promise<void> {
    await this.task.stop();
  }
}

function samePlan(a: PendingUnit, b: PendingUnit): boolean {
  if (a.total !== b.total || a.batches.length !== b.batches.length) return false;
  return a.batches.every((x, i) => x.topic === b.batches[i].topic && x.partition === b.batches[i].partition && x.baseSequence === b.batches[i].baseSequence && x.count === b.batches[i].count);
}
