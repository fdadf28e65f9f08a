// A KIP-848 consumer group's state (Kafka's ConsumerGroup): members with their epochs, the group
// epoch, the target assignment the server-side assignor computed for the current assignment
// epoch, and who owns each partition right now. Reconciliation is incremental, as Kafka's
// CurrentAssignmentBuilder: a member first gives up (acknowledges revoking) what it must lose,
// keeping its epoch meanwhile; a partition goes to its new member only once its previous owner
// has released it. Pure bookkeeping; heartbeats, timers and persistence are in consumer-heartbeat.ts.
import { assign, assignorNameOf, type Assignment, type AssignorName, type AssignorTopic } from './assignors.js';

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
  rackId: string | null = null;
  rebalanceTimeoutMs = 300_000;
  subscribedTopicNames: string[] = [];
  subscribedTopicRegex: string | null = null;
  compiledRegex: RegExp | null = null;
  serverAssignor: string | null = null;
  sessionTimer: unknown = null;
  revocationTimer: unknown = null;

  constructor(
    readonly memberId: string,
    public instanceId: string | null,
    public clientId: string,
    public clientHost: string,
  ) {}
}

export type ConsumerGroupStateName = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable';

export class ConsumerGroupState {
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerMember>();
  /** instance id -> member id. */
  readonly staticMembers = new Map<string, string>();
  /** member id -> its target assignment at assignmentEpoch. */
  target = new Map<string, Assignment>();
  /** "topicId:partition" -> the member holding it (assigned or pending revocation). */
  readonly owners = new Map<string, string>();
  /** The subscribed topics (ids and partition counts) the target was computed from. */
  metadataKey = '';
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
    const ids = new Set<string>();
    for (const m of this.members.values()) for (const id of this.subscribedTopicIds(m, topics)) ids.add(id);
    return topics
      .filter((t) => ids.has(t.topicId))
      .map((t) => `${t.topicId}:${t.partitions}`)
      .sort()
      .join(',');
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
  computeTarget(topics: readonly AssignorTopicWithInternal[], configured: AssignorName[]): void {
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
    if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId);
  }

  removeMember(member: ConsumerMember): void {
    this.members.delete(member.memberId);
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
    if (revoke.size > 0) {
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
