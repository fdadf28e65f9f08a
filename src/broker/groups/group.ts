// A classic consumer group, as Kafka's GroupMetadata: its state, generation, members and the
// offsets committed for it. Pure bookkeeping; the rebalance logic that drives it lives in
// join.ts / sync.ts / leave.ts, persistence in persistence.ts.
import type { ConsumerGroupState } from './consumer-group.js';
import { MemberMetadata } from './member.js';
import { CONSUMER_PROTOCOL_TYPE, type CommittedOffset, type GroupState, type JoinGroupMember, type Protocol } from './types.js';

const VALID_PREVIOUS: Record<GroupState, readonly GroupState[]> = {
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  Empty: ['PreparingRebalance'],
};

export class ClassicGroup {
  state: GroupState = 'Empty';
  /** When the group entered its current state (GroupMetadataValue v2+; drives offset expiry of empty groups). */
  currentStateTimestamp: number | null;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, MemberMetadata>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined with. */
  readonly pendingMembers = new Map<string, unknown>();
  /** Members of the new generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** group.instance.id -> member id. */
  readonly staticMembers = new Map<string, string>();
  /** Protocol name -> how many members support it. */
  private readonly protocolVotes = new Map<string, number>();
  /** Set when a member joins during the initial delay of a new group (extends the delay). */
  newMemberAdded = false;
  subscribedTopics: Set<string> | null = null;
  /**
   * Set while the group is a KIP-848 consumer group (ConsumerGroupHeartbeat): then the classic
   * state stays Empty with no members and this holds the members, epochs and assignments.
   */
  consumer: ConsumerGroupState | null = null;
  /** topic -> partition -> committed offset. */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();

  /** Rebalance timers: the join phase (plain or initial delay) and the sync deadline. */
  joinTimer: unknown = null;
  joinTimerKind: 'initial' | 'normal' | null = null;
  syncTimer: unknown = null;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.currentStateTimestamp = now;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupState, now: number): void {
    if (!VALID_PREVIOUS[state].includes(this.state)) {
      throw new Error(`Group ${this.groupId} should be in one of [${VALID_PREVIOUS[state].join(', ')}] before moving to ${state}, but is ${this.state}`);
    }
    this.state = state;
    this.currentStateTimestamp = now;
  }

  /**
   * Forgets the classic members and rebalance state (the group is converting to a consumer group,
   * or being rebuilt from one): Empty, no members, no votes. Timers are the caller's to cancel.
   */
  clearMembers(now: number): void {
    this.members.clear();
    this.pendingMembers.clear();
    this.pendingSyncMembers.clear();
    this.staticMembers.clear();
    this.protocolVotes.clear();
    this.leaderId = null;
    this.protocolName = null;
    this.subscribedTopics = null;
    this.joinTimer = null;
    this.joinTimerKind = null;
    this.syncTimer = null;
    this.newMemberAdded = false;
    this.state = 'Empty';
    this.currentStateTimestamp = now;
  }

  /** PreparingRebalance may be entered from these states. */
  canRebalance(): boolean {
    return VALID_PREVIOUS.PreparingRebalance.includes(this.state);
  }

  get size(): number {
    return this.members.size;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): MemberMetadata | undefined {
    return this.members.get(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  add(member: MemberMetadata, onJoin?: MemberMetadata['awaitingJoin']): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    this.countVotes(member.protocols, +1);
    member.awaitingJoin = onJoin ?? null;
    this.pendingMembers.delete(member.memberId);
  }

  remove(memberId: string): MemberMetadata | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    this.members.delete(memberId);
    this.countVotes(member.protocols, -1);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    this.pendingSyncMembers.delete(memberId);
    if (this.isLeader(memberId)) this.leaderId = this.members.keys().next().value ?? null;
    return member;
  }

  updateMember(member: MemberMetadata, protocols: Protocol[], rebalanceTimeoutMs: number, sessionTimeoutMs: number, onJoin: MemberMetadata['awaitingJoin']): void {
    this.countVotes(member.protocols, -1);
    member.protocols = protocols;
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    this.countVotes(protocols, +1);
    member.awaitingJoin = onJoin;
  }

  /** Gives a static member a new member id, fencing the old one's parked requests. */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string, fence: (m: MemberMetadata) => void): MemberMetadata {
    const member = this.members.get(oldMemberId);
    if (!member) throw new Error(`Cannot replace non-existing member ${oldMemberId} of group ${this.groupId}`);
    fence(member);
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return member;
  }

  staticMemberId(groupInstanceId: string | null): string | undefined {
    return groupInstanceId === null ? undefined : this.staticMembers.get(groupInstanceId);
  }

  /** A static member whose instance id is now held by another member id must stop. */
  isStaticMemberFenced(groupInstanceId: string | null, memberId: string): boolean {
    const current = this.staticMemberId(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  numMembersAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.isAwaitingJoin) n++;
    return n;
  }

  hasAllMembersJoined(): boolean {
    return this.numMembersAwaitingJoin() === this.members.size && this.pendingMembers.size === 0;
  }

  notYetRejoinedMembers(): MemberMetadata[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  /** The largest rebalance timeout of the members: how long the join phase may wait. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Keeps a leader that has rejoined, else picks one that has; false when nobody has rejoined. */
  maybeElectNewJoinedLeader(): boolean {
    const leader = this.leaderId === null ? undefined : this.members.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    const joined = [...this.members.values()].find((m) => m.isAwaitingJoin);
    if (!joined) return false;
    this.leaderId = joined.memberId;
    return true;
  }

  /** Protocols every member supports. */
  private candidateProtocols(): Set<string> {
    const all = new Set<string>();
    for (const [name, votes] of this.protocolVotes) if (votes === this.members.size) all.add(name);
    return all;
  }

  /** Whether a member with this protocol type and protocols may join. */
  supportsProtocols(protocolType: string, protocols: Protocol[]): boolean {
    if (this.is('Empty')) return protocolType !== '' && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    const candidates = this.candidateProtocols();
    return protocols.some((p) => candidates.has(p.name));
  }

  /** The protocol most members prefer among those all support (ties: the leader's order). */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`Cannot select protocol for empty group ${this.groupId}`);
    const candidates = this.candidateProtocols();
    const tally = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.vote(candidates);
      tally.set(choice, (tally.get(choice) ?? 0) + 1);
    }
    const order = (this.leaderId && this.members.get(this.leaderId)?.protocolNames()) || [...tally.keys()];
    let best: string | null = null;
    for (const name of [...order, ...tally.keys()]) {
      const votes = tally.get(name) ?? 0;
      if (best === null || votes > (tally.get(best) ?? 0)) best = name;
    }
    return best!;
  }

  /** Moves to the next generation once the join phase is over. */
  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance', now);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty', now);
    }
    this.pendingSyncMembers.clear();
  }

  /** What the leader's JoinGroup answer carries: every member's metadata for the chosen protocol. */
  currentMemberMetadata(): JoinGroupMember[] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(this.protocolName),
    }));
  }

  /**
   * Topics the members subscribe to (consumer protocol only), used to keep their offsets from
   * expiring and to refuse OffsetDelete on them. null when unknown.
   */
  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const list = subscriptionTopics(m.metadataFor(this.protocolName));
      if (list === null) return null;
      for (const t of list) topics.add(t);
    }
    return topics;
  }

  hasOffsets(): boolean {
    return this.offsets.size > 0;
  }

  offset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  setOffset(topic: string, partition: number, value: CommittedOffset): void {
    let byPartition = this.offsets.get(topic);
    if (!byPartition) this.offsets.set(topic, (byPartition = new Map()));
    byPartition.set(partition, value);
  }

  deleteOffset(topic: string, partition: number): boolean {
    const byPartition = this.offsets.get(topic);
    if (!byPartition?.delete(partition)) return false;
    if (byPartition.size === 0) this.offsets.delete(topic);
    return true;
  }

  *allOffsets(): Iterable<[string, number, CommittedOffset]> {
    for (const [topic, byPartition] of this.offsets) for (const [p, o] of byPartition) yield [topic, p, o];
  }

  private countVotes(protocols: Protocol[], delta: number): void {
    for (const { name } of protocols) {
      const n = (this.protocolVotes.get(name) ?? 0) + delta;
      if (n <= 0) this.protocolVotes.delete(name);
      else this.protocolVotes.set(name, n);
    }
  }
}

/**
 * The topic list of a ConsumerProtocolSubscription (any version: the list comes first, right
 * after the int16 version), or null if the bytes are not one.
 */
export function subscriptionTopics(metadata: Buffer): string[] | null {
  try {
    if (metadata.length < 6) return null;
    let pos = 2;
    const count = metadata.readInt32BE(pos);
    pos += 4;
    if (count < 0 || count > metadata.length) return null;
    const topics: string[] = [];
    for (let i = 0; i < count; i++) {
      const len = metadata.readInt16BE(pos);
      pos += 2;
      if (len < 0 || pos + len > metadata.length) return null;
      topics.push(metadata.toString('utf8', pos, pos + len));
      pos += len;
    }
    return topics;
  } catch {
    return null;
  }
}
