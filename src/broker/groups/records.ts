// Kafka's own key and value formats for __consumer_offsets, so `kcat -C -t __consumer_offsets`
// and Kafka's tooling see familiar records. Every key and value starts with an int16 version.
//   OffsetCommitKey   v0/v1: group, topic, partition        (kts writes v1; v0 = ZooKeeper-era commits, see below)
//   GroupMetadataKey  v2:    group
//   OffsetCommitValue v0-v4 (kts writes v4 with the topic id as Kafka 4.x does, v3 as Kafka 3.9,
//                            or v1 when the commit carried a retention time)
//   GroupMetadataValue v0-v4 (kts writes v3)
//   Record types 3 and 5-8: a KIP-848 consumer group, in Kafka 4.4's formats (consumer-records.ts)
// Kafka reads key versions 0 and 1 alike. kts uses key v0 for the separate namespace that
// OffsetCommit/OffsetFetch v0 address (Kafka 3.9 keeps those in ZooKeeper, apart from the rest).
import { codecFor } from '../../protocol/codec/compile.js';
import { ZERO_UUID } from '../../protocol/codec/reader.js';
import { MAX_VERSION, type MessageSchema } from '../../protocol/codec/schema.js';
import { Writer as FlexibleWriter } from '../../protocol/codec/writer.js';
import type { CommittedOffset } from './types.js';

export type CoordinatorKey =
  | { type: 'offset'; legacy: boolean; group: string; topic: string; partition: number }
  | { type: 'group'; group: string }
  | { type: 'consumer-group'; group: string }
  /** The other KIP-848 records (consumer-records.ts): 6 per group, 5/7/8 per member. */
  | { type: 'consumer-record'; recordType: 5 | 6 | 7 | 8 | 16; group: string; memberId: string | null };

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeout: number;
  sessionTimeout: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface StoredGroup {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number;
  members: StoredMember[];
}

// ---- keys ----

export function offsetCommitKey(group: string, topic: string, partition: number, legacy = false): Buffer {
  return new Writer().int16(legacy ? 0 : 1).string(group).string(topic).int32(partition).done();
}

export function groupMetadataKey(group: string): Buffer {
  return new Writer().int16(2).string(group).done();
}

export function decodeKey(buf: Buffer): CoordinatorKey | null {
  const r = new Reader(buf);
  const version = r.int16();
  if (version === 0 || version === 1) {
    return { type: 'offset', legacy: version === 0, group: r.string() ?? '', topic: r.string() ?? '', partition: r.int32() };
  }
  if (version === 2) return { type: 'group', group: r.string() ?? '' };
  if (version === 3) return { type: 'consumer-group', group: r.string() ?? '' };
  if (version === 6) return { type: 'consumer-record', recordType: 6, group: r.string() ?? '', memberId: null };
  if (version === 5 || version === 7 || version === 8) return { type: 'consumer-record', recordType: version, group: r.string() ?? '', memberId: r.string() ?? '' };
  // A regex's resolution: keyed by group and regex (kept in the member id's place; restore skips it).
  if (version === 16) return { type: 'consumer-record', recordType: 16, group: r.string() ?? '', memberId: r.string() ?? '' };
  return null; // other record types (subscription metadata, regular expressions, share and streams groups): not kept
}

// ---- offset commit values ----

/** Version 4 of Kafka's OffsetCommitValue: flexible, the topic id a tagged field (tag 0, left out when unknown). */
const OFFSET_COMMIT_VALUE_V4: MessageSchema = {
  name: 'OffsetCommitValue',
  type: 'data',
  validVersions: [4, 4],
  flexibleVersions: [4, MAX_VERSION],
  fields: [
    { name: 'offset', type: 'int64', versions: [4, MAX_VERSION] },
    { name: 'leaderEpoch', type: 'int32', versions: [4, MAX_VERSION] },
    { name: 'metadata', type: 'string', versions: [4, MAX_VERSION] },
    { name: 'commitTimestamp', type: 'int64', versions: [4, MAX_VERSION] },
    { name: 'topicId', type: 'uuid', versions: [4, MAX_VERSION], default: ZERO_UUID, tagged: [4, MAX_VERSION], tag: 0 },
  ],
};

/**
 * The value of an offset commit record, as Kafka writes it: v1 when the commit carried a retention
 * time (OffsetCommit v2-v4), else v4 with the topic's id (Kafka 4.x) or v3 (Kafka 3.9).
 */
export function offsetCommitValue(o: CommittedOffset, topicId?: string, version: 3 | 4 = 4): Buffer {
  if (o.expireTimestamp !== null) {
    return new Writer().int16(1).int64(o.offset).string(o.metadata).int64(o.commitTimestamp).int64(o.expireTimestamp).done();
  }
  if (version === 3) return new Writer().int16(3).int64(o.offset).int32(o.leaderEpoch).string(o.metadata).int64(o.commitTimestamp).done();
  const w = new FlexibleWriter();
  try {
    w.int16(4);
    codecFor(OFFSET_COMMIT_VALUE_V4, 4).encode(w, { ...o, topicId: topicId ?? ZERO_UUID });
    return w.finishBuffer();
  } finally {
    w.release();
  }
}

export function decodeOffsetCommitValue(buf: Buffer): CommittedOffset {
  const r = new Reader(buf);
  const version = r.int16();
  const flexible = version >= 4;
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = (flexible ? r.compactString() : r.string()) ?? '';
  const commitTimestamp = r.int64();
  const expireTimestamp = version === 1 ? r.int64() : -1;
  return { offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp: expireTimestamp === -1 ? null : expireTimestamp };
}

// ---- group metadata values ----

export function groupMetadataValue(g: StoredGroup): Buffer {
  const w = new Writer().int16(3).string(g.protocolType).int32(g.generation).nullableString(g.protocol).nullableString(g.leader);
  w.int64(g.currentStateTimestamp).int32(g.members.length);
  for (const m of g.members) {
    w.string(m.memberId).nullableString(m.groupInstanceId).string(m.clientId).string(m.clientHost);
    w.int32(m.rebalanceTimeout).int32(m.sessionTimeout).bytes(m.subscription).bytes(m.assignment);
  }
  return w.done();
}

export function decodeGroupMetadataValue(buf: Buffer): StoredGroup {
  const r = new Reader(buf);
  const version = r.int16();
  const flexible = version >= 4;
  const str = () => (flexible ? r.compactString() : r.string()) ?? '';
  const nstr = () => (flexible ? r.compactString() : r.string());
  const bytes = () => (flexible ? r.compactBytes() : r.bytes()) ?? Buffer.alloc(0);
  const protocolType = str();
  const generation = r.int32();
  const protocol = nstr();
  const leader = nstr();
  const currentStateTimestamp = version >= 2 ? r.int64() : -1;
  const count = flexible ? r.uvarint() - 1 : r.int32();
  const members: StoredMember[] = [];
  for (let i = 0; i < count; i++) {
    const memberId = str();
    const groupInstanceId = version >= 3 ? nstr() : null;
    const clientId = str();
    const clientHost = str();
    const rebalanceTimeout = version >= 1 ? r.int32() : -1;
    const sessionTimeout = r.int32();
    const subscription = bytes();
    const assignment = bytes();
    if (flexible) r.skipTaggedFields();
    members.push({ memberId, groupInstanceId, clientId, clientHost, rebalanceTimeout: rebalanceTimeout < 0 ? sessionTimeout : rebalanceTimeout, sessionTimeout, subscription, assignment });
  }
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}

// ---- primitives (big-endian, classic encodings; compact forms for reading flexible versions) ----

class Writer {
  private readonly parts: Buffer[] = [];

  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }

  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }

  int64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(v));
    this.parts.push(b);
    return this;
  }

  string(s: string): this {
    const body = Buffer.from(s, 'utf8');
    this.int16(body.length);
    this.parts.push(body);
    return this;
  }

  nullableString(s: string | null): this {
    return s === null ? this.int16(-1) : this.string(s);
  }

  bytes(b: Buffer): this {
    this.int32(b.length);
    this.parts.push(b);
    return this;
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError('Truncated coordinator record');
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): number {
    this.need(8);
    const v = Number(this.buf.readBigInt64BE(this.pos));
    this.pos += 8;
    return v;
  }

  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      this.need(1);
      const b = this.buf[this.pos++];
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
      shift += 7;
      if (shift > 35) throw new RangeError('Varint too long');
    }
  }

  private text(len: number): string {
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  private raw(len: number): Buffer {
    this.need(len);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return b;
  }

  string(): string | null {
    const len = this.int16();
    return len < 0 ? null : this.text(len);
  }

  compactString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.text(n - 1);
  }

  bytes(): Buffer | null {
    const len = this.int32();
    return len < 0 ? null : this.raw(len);
  }

  compactBytes(): Buffer | null {
    const n = this.uvarint();
    return n === 0 ? null : this.raw(n - 1);
  }

  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.raw(this.uvarint());
    }
  }
}

/** Java's String.hashCode over UTF-16 code units, as Kafka's partitionFor uses it. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** The __consumer_offsets partition that holds a group: abs(hashCode) mod partitions (Utils.abs: MIN_VALUE -> 0). */
export function partitionForGroup(groupId: string, partitions: number): number {
  const h = javaStringHash(groupId);
  const abs = h === -2147483648 ? 0 : Math.abs(h);
  return abs % partitions;
}
