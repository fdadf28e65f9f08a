// Runs one sink task: a member of the group connect-<connector>, fetching its partitions from the
// committed offsets (else the earliest), converting and transforming each record, put() in order,
// and every offset.flush.interval.ms flush() then commit of what was put (with the task's commit
// metadata). A fresh assignment with nothing committed is committed at once, so that a sink's
// output always has a committed point to go back to.
import type { KafkaClient } from '../client/index.js';
import type { GroupMember } from '../client/group-member.js';
import type { SinkRecord, SinkTask, TopicPartition } from './api.js';
import type { Converter } from './converters.js';
import type { ConnectRecord } from './transforms.js';
import { TaskRunner, type RunnerDeps } from './task-runner.js';

export interface SinkRunnerDeps extends RunnerDeps {
  client: KafkaClient;
  keyConverter: Converter;
  valueConverter: Converter;
  transform: (r: ConnectRecord) => ConnectRecord | null;
  flushIntervalMs: number;
  groupInstanceId: string | null;
}

const key = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

export class SinkTaskRunner extends TaskRunner {
  private member: GroupMember | null = null;
  private positions = new Map<string, TopicPartition & { offset: number }>();
  private committed = new Map<string, { offset: number; metadata: string | null }>();
  private lastCommit = Date.now();
  private dirty = false;

  constructor(
    private readonly task: SinkTask,
    private readonly deps: SinkRunnerDeps,
  ) {
    super(deps);
  }

  private async subscribedTopics(): Promise<string[]> {
    const cfg = this.deps.config;
    const client = this.deps.client;
    if (cfg['topics.regex']) {
      const re = new RegExp(`^(?:${cfg['topics.regex']})$`);
      const md = await client.cluster.refresh(null);
      return md.topics.filter((t) => t.errorCode === 0 && re.test(t.name)).map((t) => t.name);
    }
    const topics = (cfg.topics ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    await client.cluster.refresh(topics, { allowAutoCreate: true });
    return topics;
  }

  protected async work(): Promise<void> {
    const { client, connector } = this.deps;
    await this.task.start(this.deps.config, {
      committed: (tp) => this.committed.get(key(tp)),
      offset: (tp, offset) => {
        const p = this.positions.get(key(tp));
        if (p) p.offset = offset;
      },
    });
    // A static member (KIP-345): a worker restarted after a crash takes its task's place in the
    // group at once instead of waiting for the dead member's session to time out (45 s).
    this.member = client.groupMember({
      groupId: `connect-${connector}`,
      groupInstanceId: this.deps.groupInstanceId,
      topics: () => this.subscribedTopics(),
    });
    await this.rejoin();
    this.started();
    while (!this.stopping) {
      if (this.member.fatal) throw this.member.fatal;
      if (this.member.rebalanceNeeded) await this.rejoin();
      if (this.paused) {
        await this.idle(200);
        continue;
      }
      if (this.positions.size === 0) {
        await this.idle(200);
        continue;
      }
      const results = await client.fetch([...this.positions.values()], { maxWaitMs: 500 });
      const batch: SinkRecord[] = [];
      for (const r of results) {
        const pos = this.positions.get(key(r));
        if (!pos) continue;
        if (r.errorCode === 1) {
          const [earliest] = await client.admin.listOffsets([{ topic: r.topic, partition: r.partition, timestamp: -2 }]);
          pos.offset = earliest.offset;
          continue;
        }
        if (r.errorCode !== 0) continue;
        for (const rec of r.records) {
          if (rec.offset < pos.offset) continue;
          const k = this.deps.keyConverter.toConnectData(rec.topic, rec.key);
          const v = this.deps.valueConverter.toConnectData(rec.topic, rec.value);
          const sink: SinkRecord = {
            topic: rec.topic,
            kafkaPartition: rec.partition,
            kafkaOffset: rec.offset,
            keySchema: k.schema,
            key: k.value,
            valueSchema: v.schema,
            value: v.value,
            timestamp: rec.timestampType === 'NO_TIMESTAMP' ? null : rec.timestamp,
            timestampType: rec.timestampType === 'NO_TIMESTAMP' ? 'NoTimestampType' : rec.timestampType,
            headers: rec.headers,
          };
          const t = this.deps.transform(sink) as SinkRecord | null;
          if (t) batch.push(t);
        }
        // Records a transform dropped count as consumed too: their offsets are committed.
        if (r.records.length > 0) this.dirty = true;
        if (r.records.length > 0) pos.offset = Math.max(pos.offset, r.records[r.records.length - 1].offset + 1);
        else pos.offset = Math.max(pos.offset, r.nextOffset);
      }
      if (batch.length > 0) await this.task.put(batch);
      if (this.dirty && Date.now() - this.lastCommit >= this.deps.flushIntervalMs) await this.commit();
    }
  }

  /** flush() then commit every position with the task's metadata. */
  private async commit(): Promise<void> {
    this.lastCommit = Date.now();
    if (!this.member || this.positions.size === 0) return;
    await this.task.flush?.(new Map([...this.positions.values()].map((p) => [`${p.topic}-${p.partition}`, p.offset])));
    const metadata = this.task.commitMetadata?.() ?? null;
    const offsets = [...this.positions.values()].map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset, metadata }));
    await this.member.commit(offsets);
    for (const o of offsets) this.committed.set(key(o), { offset: o.offset, metadata });
    this.dirty = false;
  }

  private async rejoin(): Promise<void> {
    const member = this.member!;
    if (this.positions.size > 0 && this.dirty) await this.commit().catch(() => undefined);
    const assigned = await member.join();
    const fresh = assigned.filter((tp) => !this.positions.has(key(tp)));
    const kept = new Map<string, TopicPartition & { offset: number }>();
    for (const tp of assigned) {
      const old = this.positions.get(key(tp));
      if (old) kept.set(key(tp), old);
    }
    const revoked = [...this.positions.values()].filter((p) => !kept.has(key(p)));
    if (revoked.length > 0) await this.task.close?.(revoked.map((p) => ({ topic: p.topic, partition: p.partition })));
    this.positions = kept;
    if (fresh.length === 0) return;
    const committed = await this.deps.client.groups.fetchOffsets(`connect-${this.deps.connector}`, fresh);
    const missing: TopicPartition[] = [];
    for (const tp of fresh) {
      const c = committed.find((x) => x.topic === tp.topic && x.partition === tp.partition && !x.error && x.offset >= 0);
      if (c) {
        this.committed.set(key(tp), { offset: c.offset, metadata: c.metadata ?? null });
        this.positions.set(key(tp), { ...tp, offset: c.offset });
      } else missing.push(tp);
    }
    if (missing.length > 0) {
      const earliest = await this.deps.client.admin.listOffsets(missing.map((tp) => ({ ...tp, timestamp: -2 })));
      for (const e of earliest) this.positions.set(key(e), { topic: e.topic, partition: e.partition, offset: Math.max(0, e.offset) });
    }
    await this.task.open?.(fresh);
    if (missing.length > 0) await this.commit();
  }

  protected async cleanup(): Promise<void> {
    if (this.state !== 'FAILED' && this.dirty) await this.commit().catch(() => undefined);
    await this.member?.leave();
    await this.task.stop();
  }
}
