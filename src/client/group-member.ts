// One member of a classic consumer group: join (handling MEMBER_ID_REQUIRED), act as leader when
// chosen (range assignor over the members' subscriptions), sync, then heartbeat in the background.
// When the coordinator asks for a rebalance, `rebalanceNeeded` turns true and the owner calls
// join() again after committing what it consumed.
import { encodeConsumerAssignment, encodeConsumerSubscription } from '../protocol/codec/frames.js';
import { ErrorCode } from '../protocol/errors.js';
import { rangeAssign } from './assignor.js';
import type { Cluster } from './cluster.js';
import { KafkaClientError, kafkaError } from './errors.js';
import { decodeAssignment, decodeSubscriptionTopics, type Groups } from './groups.js';
import type { TopicPartition } from './routing.js';

export interface GroupMemberOptions {
  groupId: string;
  /** Topics to subscribe to, re-evaluated at every join (a regex subscription resolves here). */
  topics: () => Promise<string[]>;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  groupInstanceId?: string | null;
}

export class GroupMember {
  memberId = '';
  generationId = -1;
  assignment: TopicPartition[] = [];
  rebalanceNeeded = false;
  /** Set when the heartbeat loop hit an error it cannot recover from. */
  fatal: Error | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private protocolName: string | null = null;
  private stopped = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly groups: Groups,
    private readonly opts: GroupMemberOptions,
  ) {}

  get identity(): { generationId: number; memberId: string; groupInstanceId: string | null } {
    return { generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.opts.groupInstanceId ?? null };
  }

  /** Joins (or rejoins) the group; resolves with this member's partitions. */
  async join(): Promise<TopicPartition[]> {
    this.stopHeartbeat();
    for (let attempt = 0; ; attempt++) {
      const topics = await this.opts.topics();
      const metadata = encodeConsumerSubscription(0, { topics, userData: null });
      const join = await this.groups.joinGroup({
        groupId: this.opts.groupId,
        memberId: this.memberId,
        groupInstanceId: this.opts.groupInstanceId ?? null,
        sessionTimeoutMs: this.opts.sessionTimeoutMs ?? 45000,
        rebalanceTimeoutMs: this.opts.rebalanceTimeoutMs ?? 60000,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata }],
      });
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = join.memberId;
        continue;
      }
      if (join.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || join.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        this.memberId = '';
        if (attempt < 5) continue;
      }
      if (join.errorCode === ErrorCode.REBALANCE_IN_PROGRESS && attempt < 10) continue;
      if (join.errorCode !== 0) throw kafkaError(join.errorCode);
      this.memberId = join.memberId;
      this.generationId = join.generationId;
      this.protocolName = join.protocolName;

      let assignments: { memberId: string; assignment: Buffer }[] = [];
      if (join.leader === join.memberId && !join.skipAssignment) assignments = await this.assign(join.members);
      const sync = await this.groups.syncGroup(
        { groupId: this.opts.groupId, ...this.identity, protocolType: 'consumer', protocolName: this.protocolName },
        assignments,
      );
      if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || sync.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        if (attempt < 10) continue;
      }
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID && attempt < 5) {
        this.memberId = '';
        continue;
      }
      if (sync.errorCode !== 0) throw kafkaError(sync.errorCode);
      this.assignment = decodeAssignment(sync.assignment);
      this.rebalanceNeeded = false;
      this.startHeartbeat();
      return this.assignment;
    }
  }

  /** The leader's job: the range assignment over every member's subscription. */
  private async assign(members: { memberId: string; metadata: Buffer }[]): Promise<{ memberId: string; assignment: Buffer }[]> {
    const subs = members.map((m) => ({ memberId: m.memberId, topics: decodeSubscriptionTopics(m.metadata) }));
    const topics = [...new Set(subs.flatMap((s) => s.topics))];
    const md = topics.length > 0 ? await this.cluster.refresh(topics) : { topics: [] };
    const counts = new Map(md.topics.filter((t) => t.errorCode === 0).map((t) => [t.name, t.partitions.length]));
    const plan = rangeAssign(subs, counts);
    return [...plan].map(([memberId, byTopic]) => ({
      memberId,
      assignment: encodeConsumerAssignment(0, {
        assignedPartitions: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
        userData: null,
      }),
    }));
  }

  private startHeartbeat(): void {
    const interval = this.opts.heartbeatIntervalMs ?? 3000;
    const beat = async (): Promise<void> => {
      if (this.stopped) return;
      try {
        const code = await this.groups.heartbeat({ groupId: this.opts.groupId, ...this.identity });
        if (code === ErrorCode.REBALANCE_IN_PROGRESS || code === ErrorCode.ILLEGAL_GENERATION) this.rebalanceNeeded = true;
        else if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.FENCED_INSTANCE_ID) {
          this.memberId = '';
          this.rebalanceNeeded = true;
        } else if (code !== 0) this.fatal = kafkaError(code);
      } catch (err) {
        if (!(err instanceof KafkaClientError && err.retriable)) this.fatal = err as Error;
      }
      if (!this.stopped && !this.rebalanceNeeded && !this.fatal) this.heartbeatTimer = setTimeout(beat, interval);
    };
    this.heartbeatTimer = setTimeout(beat, interval);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  async commit(offsets: (TopicPartition & { offset: number })[]): Promise<void> {
    const results = await this.groups.commitOffsets(this.opts.groupId, offsets, this.identity);
    const failed = results.find((r) => r.error);
    if (failed?.error) {
      if (failed.error.code === ErrorCode.REBALANCE_IN_PROGRESS || failed.error.code === ErrorCode.ILLEGAL_GENERATION || failed.error.code === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.rebalanceNeeded = true;
      }
      throw failed.error;
    }
  }

  async leave(): Promise<void> {
    this.stopped = true;
    this.stopHeartbeat();
    if (!this.memberId) return;
    await this.groups.leaveGroup(this.opts.groupId, this.memberId, this.opts.groupInstanceId ?? null).catch(() => undefined);
    this.memberId = '';
  }
}
