// A KIP-848 consumer group's state (Kafka's ConsumerGroup): members with their epochs, the group
// epoch, the target assignment the server-side assignor computed for the current assignment
// epoch, and who owns each partition right now. Reconciliation is incremental, as Kafka's
// CurrentAssignmentBuilder: a member first gives up (acknowledges revoking) what it must lose,
// keeping its epoch meanwhile; a partition goes to its new member only once its previous owner
// has released it. Pure bookkeeping; heartbeats, timers and persistence are in consumer-heartbeat.ts.
import { assign, assignorNameOf, type Assignment, type AssignorName, type AssignorTopic } from './assignors.js';
import type { Protocol } from './types.js';

export type MemberState = 'STABLE' | 'UNREVOKED_PARTITIONS' | 'UNRELEASED_PARTITIONS';

/** Epoch of a static member that left temporarily (ConsumerGroupHeartbeat with epoch -2). */
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;
export const LEAVE_GROUP_MEMBER_EPOCH = -1;

export class ConsumerMember {
  memberEpoch = 0;
  previousMemberEpoch = 0;
  state: MemberState = 'STABLE';
  /** What the member may consume now. */
  assigned: Assignment = new Map();
  /** What the member must give up before its epoch moves on. */
  pendingRevocation: Assignment = new Map();
  /** "topicId:partition" -> the member epoch at which it was assigned (KIP-1251; stored with the assignment). */
  assignedEpochs = new Map<string, number>();
  rackId: string | null = null;
  rebalanceTimeoutMs = 300_000;
  subscribedTopicNames: string[] = [];
  subscribedTopicRegex: string | null = null;
  compiledRegex: RegExp | null = null;
  serverAssignor: string | null = null;
  sessionTimer: unknown = null;
  revocationTimer: unknown = null;
  /**
   * Set for a member that speaks the classic protocol (JoinGroup/SyncGroup/Heartbeat) inside the
   * consumer group: its session timeout and the protocols it joined with (Kafka's ClassicMemberMetadata).
   */
  classic: ClassicMemberInfo | null = null;
  /** A classic member told to rejoin must do so within its rebalance timeout. */
  joinTimer: unknown = null;
  /** A classic member that joined must send SyncGroup within its rebalance timeout. */
  syncTimer: unknown = null;

  constructor(
    readonly memberId: string,
    public instanceId: string | null,
    public clientId: string,
    public clientHost: string,
  ) {}
}

export interface ClassicMemberInfo {
  sessionTimeoutMs: number;
  protocols: Protocol[];
}

export type ConsumerGroupStateName = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable';

export class ConsumerGroupState {
  // Kafka 4.4 starts a new group at epoch 1 (never written), so its first member gets epoch 2.
  groupEpoch = 1;
  assignmentEpoch = 1;
  /** When the target was last computed for members (0: for none, as Kafka). Stored with the assignment epoch. */
  assignmentTimestamp = 0;
  /** What __consumer_offsets holds for this group: key (hex) -> value (hex), see consumer-persistence.ts. */
  readonly persisted = new Map<string, string>();
  /** The group and assignment epochs last written (a change means every member's records are compared). */
  persistedEpochs = '';
  /** Members removed since the last write: their records get tombstones. */
  readonly departed = new Set<string>();
  readonly members = new Map<string, ConsumerMember>();
  /** instance id -> member id. */
  readonly staticMembers = new Map<string, string>();
  /** member id -> its target assignment at assignmentEpoch. */
  target = new Map<string, Assignment>();
  /** "topicId:partition" -> the member holding it (assigned or pending revocation). */
  readonly owners = new Map<string, string>();
  /** The subscribed topics (ids and partition counts) the target was computed from. */
  metadataKey = '';
  /**
   * Each regex a member subscribes with -> the topic names it matched when last resolved, and when
   * (Kafka 4.4's ConsumerGroupRegularExpression record, written with the group's records).
   */
  readonly regexResolutions = new Map<string, { topics: string[]; timestamp: number }>();
  assignor: AssignorName = 'uniform';

  state(): ConsumerGroupStateName {
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) {
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== 'STABLE') return 'Reconciling';
    }
    return 'Stable';
  }

  /** Topic ids the member subscribes to that exist now. */
  subscribedTopicIds(member: ConsumerMember, topics: readonly AssignorTopicWithInternal[]): Set<string> {
    const out = new Set<string>();
    const names = new Set(member.subscribedTopicNames);
    for (const t of topics) {
      if (names.has(t.name)) out.add(t.topicId);
      // Kafka's regex subscriptions never match internal topics.
      if (member.compiledRegex && !t.internal && member.compiledRegex.test(t.name)) out.add(t.topicId);
    }
    return out;
  }

  /** Subscribed topics and their sizes, as a string: a change means a new group epoch. */
  computeMetadataKey(topics: readonly AssignorTopicWithInternal[]): string {
    this.resolveRegexes(topics);
    const ids = new Set<string>();
    for (const m of this.members.values()) for (const id of this.subscribedTopicIds(m, topics)) ids.add(id);
    return topics
      .filter((t) => ids.has(t.topicId))
      .map((t) => `${t.topicId}:${t.partitions}`)
      .sort()
      .join(',');
  }

  /** Resolves each regex in use against `topics`; a resolution that did not change keeps its time. */
  resolveRegexes(topics: readonly AssignorTopicWithInternal[], now = Date.now()): void {
    const inUse = new Map<string, RegExp>();
    for (const m of this.members.values()) if (m.subscribedTopicRegex !== null && m.compiledRegex) inUse.set(m.subscribedTopicRegex, m.compiledRegex);
    for (const regex of [...this.regexResolutions.keys()]) if (!inUse.has(regex)) this.regexResolutions.delete(regex);
    for (const [regex, compiled] of inUse) {
      const matched = topics.filter((t) => !t.internal && compiled.test(t.name)).map((t) => t.name).sort();
      const was = this.regexResolutions.get(regex);
      if (was && was.topics.length === matched.length && was.topics.every((t, i) => t === matched[i])) continue;
      this.regexResolutions.set(regex, { topics: matched, timestamp: now });
    }
  }

  /** The assignor: the one most members ask for, else the configured default. */
  chooseAssignor(configured: AssignorName[]): AssignorName {
    const votes = new Map<AssignorName, number>();
    for (const m of this.members.values()) {
      const name = m.serverAssignor ? assignorNameOf(m.serverAssignor) : null;
      if (name) votes.set(name, (votes.get(name) ?? 0) + 1);
    }
    let best: AssignorName = configured[0] ?? 'uniform';
    let bestVotes = 0;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  /** Runs the assignor for the group epoch: the new target assignment. */
  computeTarget(topics: readonly AssignorTopicWithInternal[], configured: AssignorName[], now: number): void {
    this.assignmentTimestamp = this.members.size > 0 ? now : 0;
    this.assignor = this.chooseAssignor(configured);
    const members = [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      topics: this.subscribedTopicIds(m, topics),
      current: this.target.get(m.memberId) ?? new Map(),
    }));
    this.target = assign(this.assignor, members, topics as AssignorTopic[]);
    this.assignmentEpoch = this.groupEpoch;
    this.metadataKey = this.computeMetadataKey(topics);
  }

  addMember(member: ConsumerMember): void {
    this.members.set(member.memberId, member);
    this.departed.delete(member.memberId);
    if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId);
  }

  removeMember(member: ConsumerMember): void {
    this.members.delete(member.memberId);
    this.departed.add(member.memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === member.memberId) this.staticMembers.delete(member.instanceId);
    this.target.delete(member.memberId);
    this.releaseAll(member);
  }

  /** The member starts over at epoch 0 owning nothing (a known member joining again). */
  resetMember(member: ConsumerMember): void {
    this.releaseAll(member);
    member.memberEpoch = 0;
    member.previousMemberEpoch = 0;
    member.state = 'STABLE';
    member.assigned = new Map();
    member.pendingRevocation = new Map();
    member.assignedEpochs = new Map();
  }

  /** Members that speak the classic protocol. */
  classicMembers(): ConsumerMember[] {
    return [...this.members.values()].filter((m) => m.classic !== null);
  }

  /**
   * Whether a classic member with these protocols may join (Kafka's supportsClassicProtocols): the
   * consumer protocol type, and one protocol every classic member already in the group supports.
   */
  supportsClassicProtocols(protocolType: string, names: string[]): boolean {
    if (protocolType !== 'consumer') return false;
    if (this.members.size === 0) return names.length > 0;
    const classic = this.classicMembers();
    return names.some((name) => classic.every((m) => m.classic!.protocols.some((p) => p.name === name)));
  }

  /** Whether a target partition of the member is still held by another member (it must wait for it). */
  waitingOnUnreleasedPartition(member: ConsumerMember): boolean {
    if (member.state !== 'UNRELEASED_PARTITIONS') return false;
    for (const [topicId, parts] of this.target.get(member.memberId) ?? new Map<string, Set<number>>()) {
      for (const p of parts) {
        if (member.assigned.get(topicId)?.has(p)) continue;
        const owner = this.owners.get(`${topicId}:${p}`);
        if (owner !== undefined && owner !== member.memberId && this.members.has(owner)) return true;
      }
    }
    return false;
  }

  /** Rebuilds who owns what from the members' assignments (after loading them). */
  restoreOwners(): void {
    for (const m of this.members.values()) this.claim(m);
  }

  private releaseAll(member: ConsumerMember): void {
    for (const [key, owner] of [...this.owners]) if (owner === member.memberId) this.owners.delete(key);
  }

  private claim(member: ConsumerMember): void {
    this.releaseAll(member);
    for (const a of [member.assigned, member.pendingRevocation]) {
      for (const [topicId, parts] of a) for (const p of parts) this.owners.set(`${topicId}:${p}`, member.memberId);
    }
  }

  /**
   * Moves a member toward its target (Kafka's CurrentAssignmentBuilder). `owned` is what the member
   * reported owning in this heartbeat (null: not reported). Returns whether anything changed.
   */
  reconcile(member: ConsumerMember, owned: Assignment | null): boolean {
    if (member.state === 'UNREVOKED_PARTITIONS') {
      // Still holding what it must give up: wait for the member to say it let go.
      if (owned === null || overlaps(owned, member.pendingRevocation)) return false;
    } else if (member.state === 'STABLE' && member.memberEpoch === this.assignmentEpoch) {
      return false;
    }
    const target = this.target.get(member.memberId) ?? new Map<string, Set<number>>();
    const keep: Assignment = new Map();
    const revoke: Assignment = new Map();
    let unreleased = false;
    for (const [topicId, parts] of member.assigned) {
      for (const p of parts) addTo(target.get(topicId)?.has(p) ? keep : revoke, topicId, p);
    }
    const before = describeAssignment(member.assigned) + '|' + describeAssignment(member.pendingRevocation) + '|' + member.memberEpoch + member.state;
    // A member that says it no longer owns what it must give up (an eager classic member rejoining
    // owns nothing) moves on at once, as Kafka's CurrentAssignmentBuilder.ownsRevokedPartitions.
    if (revoke.size > 0 && (owned === null || overlaps(owned, revoke))) {
      member.state = 'UNREVOKED_PARTITIONS';
      member.assigned = keep;
      member.pendingRevocation = revoke;
    } else {
      const next: Assignment = cloneAssignment(keep);
      for (const [topicId, parts] of target) {
        for (const p of parts) {
          if (keep.get(topicId)?.has(p)) continue;
          const owner = this.owners.get(`${topicId}:${p}`);
          if (owner === undefined || owner === member.memberId || !this.members.has(owner)) addTo(next, topicId, p);
          else unreleased = true;
        }
      }
      if (member.memberEpoch !== this.assignmentEpoch) {
        member.previousMemberEpoch = member.memberEpoch;
        member.memberEpoch = this.assignmentEpoch;
      }
      member.state = unreleased ? 'UNRELEASED_PARTITIONS' : 'STABLE';
      const epochs = new Map<string, number>();
      for (const [topicId, parts] of next) {
        for (const p of parts) epochs.set(`${topicId}:${p}`, member.assignedEpochs.get(`${topicId}:${p}`) ?? member.memberEpoch);
      }
      member.assignedEpochs = epochs;
      member.assigned = next;
      member.pendingRevocation = new Map();
    }
    this.claim(member);
    return before !== describeAssignment(member.assigned) + '|' + describeAssignment(member.pendingRevocation) + '|' + member.memberEpoch + member.state;
  }
}

export type AssignorTopicWithInternal = AssignorTopic & { internal?: boolean };

function addTo(a: Assignment, topicId: string, p: number): void {
  let s = a.get(topicId);
  if (!s) a.set(topicId, (s = new Set()));
  s.add(p);
}

function cloneAssignment(a: Assignment): Assignment {
  return new Map([...a].map(([t, s]) => [t, new Set(s)]));
}

function overlaps(a: Assignment, b: Assignment): boolean {
  for (const [t, parts] of b) for (const p of parts) if (a.get(t)?.has(p)) return true;
  return false;
}

export function assignmentEquals(a: Assignment, b: Assignment): boolean {
  return describeAssignment(a) === describeAssignment(b);
}

/** A canonical string of an assignment (sorted). */
export function describeAssignment(a: Assignment): string {
  return [...a]
    .filter(([, s]) => s.size > 0)
    .map(([t, s]) => `${t}:${[...s].sort((x, y) => x - y).join('.')}`)
    .sort()
    .join(',');
}

/** Whether every partition of `a` is in `b`. */
export function isSubset(a: Assignment, b: Assignment): boolean {
  for (const [t, parts] of a) for (const p of parts) if (!b.get(t)?.has(p)) return false;
  return true;
}
