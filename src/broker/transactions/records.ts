// __transaction_state records in Kafka's layout (TransactionLogKey v0 / TransactionLogValue v0-1): so
// a Kafka tool or broker reads what kts wrote.
//   key:   int16 version 0, string transactional id
//   value v0: int16 version 0, int64 producer id, int16 epoch, int32 timeout ms, int8 state,
//          nullable [string topic, [int32 partition]], int64 last update ms, int64 start ms
//   value v1 (flexible; what Kafka 4.x writes once transaction.version >= 1): the same fields with
//          compact strings and arrays, then tagged fields: 0 previous producer id, 1 next producer
//          id, 2 the client's transaction version, 3 the next producer epoch (two-phase commit, never
//          written by kts). Transaction version 2's producer id rotation lives in tags 0 and 1.
// A null value is a tombstone: the transactional id expired.
import { NO_PRODUCER_ID, TV_1, TxnState, type TxnPartitions, type TxnStateId } from './state.js';

export const TXN_TOPIC = '__transaction_state';

/**
 * Kafka's transactionTopicConfigs (unclean election off, uncompressed, compacted). Its
 * min.insync.replicas (transaction.state.log.min.isr, 2) is added at creation (topic-log.ts), capped
 * by the replication factor: kts caps that by the live brokers, as for __consumer_offsets, and a
 * one-broker cluster must keep working.
 */
export function transactionTopicConfigs(segmentBytes: number): Record<string, string> {
  return {
    'cleanup.policy': 'compact',
    'compression.type': 'uncompressed',
    'unclean.leader.election.enable': 'false',
    'segment.bytes': String(segmentBytes),
  };
}

export interface TxnLogValue {
  producerId: number;
  previousProducerId: number;
  nextProducerId: number;
  clientTransactionVersion: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnStateId;
  partitions: TxnPartitions;
  lastUpdateTimestamp: number;
  startTimestamp: number;
}

export function encodeTxnKey(transactionalId: string): Buffer {
  const id = Buffer.from(transactionalId, 'utf8');
  const out = Buffer.alloc(4 + id.length);
  out.writeInt16BE(0, 0);
  out.writeInt16BE(id.length, 2);
  id.copy(out, 4);
  return out;
}

/** The transactional id of a key, or null for a key version this broker does not know (skipped, as Kafka). */
export function decodeTxnKey(buf: Buffer): string | null {
  if (buf.length < 4 || buf.readInt16BE(0) !== 0) return null;
  const len = buf.readInt16BE(2);
  if (len < 0 || 4 + len > buf.length) throw new Error('truncated __transaction_state key');
  return buf.toString('utf8', 4, 4 + len);
}

/** A value of version 0 (Kafka before transaction.version 1) or 1 (Kafka 4.x: flexible, with the tagged fields). */
export function encodeTxnValue(v: TxnLogValue, version: 0 | 1 = 1): Buffer {
  // Kafka writes null partitions for Empty and groups the partitions by topic otherwise.
  const topics = v.state === TxnState.Empty ? null : [...v.partitions].map(([topic, ps]) => ({ topic: Buffer.from(topic, 'utf8'), ps: [...ps] }));
  const flexible = version === 1;
  const tags: [number, Buffer][] = [];
  if (flexible) {
    const int64 = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(n));
      return b;
    };
    if (v.previousProducerId !== NO_PRODUCER_ID) tags.push([0, int64(v.previousProducerId)]);
    if (v.nextProducerId !== NO_PRODUCER_ID) tags.push([1, int64(v.nextProducerId)]);
    if (v.clientTransactionVersion !== TV_1) {
      const b = Buffer.alloc(2);
      b.writeInt16BE(v.clientTransactionVersion);
      tags.push([2, b]);
    }
  }
  // Lengths: every varint here is below 2^21 (names and counts are bounded far below), 3 bytes at most.
  let size = 2 + 8 + 2 + 4 + 1 + 4 + 8 + 8 + 1;
  for (const t of topics ?? []) size += 5 + t.topic.length + 5 + 4 * t.ps.length + 1;
  for (const [, data] of tags) size += 2 + data.length;
  const out = Buffer.alloc(size);
  let o = out.writeInt16BE(version, 0);
  const uvarint = (n: number) => {
    while (n >= 0x80) {
      out[o++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    out[o++] = n;
  };
  o = out.writeBigInt64BE(BigInt(v.producerId), o);
  o = out.writeInt16BE(v.producerEpoch, o);
  o = out.writeInt32BE(v.timeoutMs, o);
  o = out.writeInt8(v.state, o);
  if (flexible) uvarint(topics ? topics.length + 1 : 0);
  else o = out.writeInt32BE(topics ? topics.length : -1, o);
  for (const t of topics ?? []) {
    if (flexible) uvarint(t.topic.length + 1);
    else o = out.writeInt16BE(t.topic.length, o);
    o += t.topic.copy(out, o);
    if (flexible) uvarint(t.ps.length + 1);
    else o = out.writeInt32BE(t.ps.length, o);
    for (const p of t.ps) o = out.writeInt32BE(p, o);
    if (flexible) uvarint(0);
  }
  o = out.writeBigInt64BE(BigInt(v.lastUpdateTimestamp), o);
  o = out.writeBigInt64BE(BigInt(v.startTimestamp), o);
  if (flexible) {
    uvarint(tags.length);
    for (const [tag, data] of tags) {
      uvarint(tag);
      uvarint(data.length);
      o += data.copy(out, o);
    }
  }
  return out.subarray(0, o);
}

/** Decodes a value of version 0 or 1 (1 is flexible: compact strings/arrays and tagged fields; unknown tags are skipped). */
export function decodeTxnValue(buf: Buffer): TxnLogValue {
  let o = 0;
  const need = (n: number) => {
    if (o + n > buf.length) throw new Error('truncated __transaction_state value');
  };
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      need(1);
      const b = buf[o++];
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 28) throw new Error('bad varint in __transaction_state value');
    }
  };
  need(2);
  const version = buf.readInt16BE(0);
  o = 2;
  if (version !== 0 && version !== 1) throw new Error(`unknown __transaction_state value version ${version}`);
  const flexible = version === 1;
  need(15);
  const producerId = Number(buf.readBigInt64BE(o));
  const producerEpoch = buf.readInt16BE(o + 8);
  const timeoutMs = buf.readInt32BE(o + 10);
  const state = buf.readInt8(o + 14) as TxnStateId;
  o += 15;
  let count: number;
  if (flexible) count = varint() - 1;
  else {
    need(4);
    count = buf.readInt32BE(o);
    o += 4;
  }
  const partitions: TxnPartitions = new Map();
  for (let i = 0; i < count; i++) {
    let len: number;
    if (flexible) len = varint() - 1;
    else {
      need(2);
      len = buf.readInt16BE(o);
      o += 2;
    }
    need(len);
    const topic = buf.toString('utf8', o, o + len);
    o += len;
    let n: number;
    if (flexible) n = varint() - 1;
    else {
      need(4);
      n = buf.readInt32BE(o);
      o += 4;
    }
    need(4 * n);
    const ps = new Set<number>();
    for (let j = 0; j < n; j++, o += 4) ps.add(buf.readInt32BE(o));
    partitions.set(topic, ps);
    if (flexible) skipTagged();
  }
  need(16);
  const lastUpdateTimestamp = Number(buf.readBigInt64BE(o));
  const startTimestamp = Number(buf.readBigInt64BE(o + 8));
  o += 16;
  let previousProducerId = NO_PRODUCER_ID;
  let nextProducerId = NO_PRODUCER_ID;
  let clientTransactionVersion = TV_1;
  if (flexible) {
    const fields = varint();
    for (let i = 0; i < fields; i++) {
      const tag = varint();
      const size = varint();
      need(size);
      if (tag === 0 && size === 8) previousProducerId = Number(buf.readBigInt64BE(o));
      else if (tag === 1 && size === 8) nextProducerId = Number(buf.readBigInt64BE(o));
      else if (tag === 2 && size === 2) clientTransactionVersion = buf.readInt16BE(o);
      o += size;
    }
  }
  return { producerId, previousProducerId, nextProducerId, clientTransactionVersion, producerEpoch, timeoutMs, state, partitions, lastUpdateTimestamp, startTimestamp };

  function skipTagged(): void {
    const fields = varint();
    for (let i = 0; i < fields; i++) {
      varint();
      const size = varint();
      need(size);
      o += size;
    }
  }
}
