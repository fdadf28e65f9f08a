// One member of a classic group: what it joined with, what it was assigned, and the join/sync
// requests of it that are parked until the rebalance gets there.
import type { JoinGroupResult, Protocol, SyncGroupResult } from './types.js';

export const EMPTY = Buffer.alloc(0);

export class MemberMetadata {
  assignment: Buffer = EMPTY;
  /** The member's JoinGroup waiting for the rebalance to complete. */
  awaitingJoin: ((result: JoinGroupResult) => void) | null = null;
  /** The member's SyncGroup waiting for the leader's assignment. */
  awaitingSync: ((result: SyncGroupResult) => void) | null = null;
  /** Joined but has not yet completed a rebalance (expires after NEW_MEMBER_JOIN_TIMEOUT_MS). */
  isNew = false;
  /** The pending session-expiry timer. */
  heartbeatTimer: unknown = null;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    public protocols: Protocol[],
  ) {}

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  protocolNames(): string[] {
    return this.protocols.map((p) => p.name);
  }

  /** The member's metadata for the group's selected protocol. */
  metadataFor(protocol: string | null): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY;
  }

  /** Same protocols, in the same order, with the same metadata bytes. */
  matches(protocols: Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => p.name === this.protocols[i].name && p.metadata.equals(this.protocols[i].metadata));
  }

  /** The member's most preferred protocol among the candidates. */
  vote(candidates: Set<string>): string {
    const choice = this.protocols.find((p) => candidates.has(p.name));
    if (!choice) throw new Error(`Member ${this.memberId} does not support any of the candidate protocols`);
    return choice.name;
  }
}
