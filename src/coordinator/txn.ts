// Transactions: what a write turns into once validated, and what the log stores. Applying the
// same transactions to the same tree in the same order gives the same tree, which is what makes
// snapshot + log replay a recovery. Encoded with jute, in the spirit of ZooKeeper's TxnHeader +
// txn records, but in kts's own layout (kts does not read ZooKeeper's data directories).
import { type ACL, JuteError, JuteReader, JuteWriter, OpCode, readACL, writeACL } from '../protocol/zookeeper/index.js';

/** How a znode lives. Ephemerals belong to the session in the txn header. */
export const NodeKind = { persistent: 0, ephemeral: 1, container: 2, ttl: 3 } as const;
export type NodeKindValue = (typeof NodeKind)[keyof typeof NodeKind];

export interface TxnHeader {
  sessionId: bigint;
  cxid: number;
  zxid: number;
  time: number;
}

export type Txn =
  | { type: typeof OpCode.create; path: string; data: Buffer | null; acl: ACL[]; kind: NodeKindValue; ttl: number }
  | { type: typeof OpCode.delete; path: string }
  | { type: typeof OpCode.setData; path: string; data: Buffer | null; version: number }
  | { type: typeof OpCode.setACL; path: string; acl: ACL[]; version: number }
  | { type: typeof OpCode.check; path: string; version: number }
  | { type: typeof OpCode.multi; txns: Txn[] }
  | { type: typeof OpCode.createSession; timeout: number }
  | { type: typeof OpCode.closeSession }
  | { type: typeof OpCode.error; err: number };

export function writeTxnHeader(w: JuteWriter, h: TxnHeader): void {
  w.bigint(h.sessionId).int(h.cxid).long(h.zxid).long(h.time);
}

export function readTxnHeader(r: JuteReader): TxnHeader {
  return { sessionId: r.bigint(), cxid: r.int(), zxid: r.long(), time: r.long() };
}

export function writeTxn(w: JuteWriter, t: Txn): void {
  w.int(t.type);
  switch (t.type) {
    case OpCode.create:
      w.string(t.path).buffer(t.data).vector(t.acl, writeACL).int(t.kind).long(t.ttl);
      return;
    case OpCode.delete:
      w.string(t.path);
      return;
    case OpCode.setData:
      w.string(t.path).buffer(t.data).int(t.version);
      return;
    case OpCode.setACL:
      w.string(t.path).vector(t.acl, writeACL).int(t.version);
      return;
    case OpCode.check:
      w.string(t.path).int(t.version);
      return;
    case OpCode.multi:
      w.vector(t.txns, writeTxn);
      return;
    case OpCode.createSession:
      w.int(t.timeout);
      return;
    case OpCode.closeSession:
      return;
    case OpCode.error:
      w.int(t.err);
      return;
  }
}

export function readTxn(r: JuteReader): Txn {
  const type = r.int();
  switch (type) {
    case OpCode.create: {
      const path = r.text();
      const data = copy(r.buffer());
      const acl = r.vector(readACL) ?? [];
      const kind = r.int();
      if (kind < 0 || kind > 3) throw new JuteError(`bad node kind ${kind}`);
      return { type, path, data, acl, kind: kind as NodeKindValue, ttl: r.long() };
    }
    case OpCode.delete:
      return { type, path: r.text() };
    case OpCode.setData:
      return { type, path: r.text(), data: copy(r.buffer()), version: r.int() };
    case OpCode.setACL:
      return { type, path: r.text(), acl: r.vector(readACL) ?? [], version: r.int() };
    case OpCode.check:
      return { type, path: r.text(), version: r.int() };
    case OpCode.multi:
      return { type, txns: r.vector(readTxn) ?? [] };
    case OpCode.createSession:
      return { type, timeout: r.int() };
    case OpCode.closeSession:
      return { type };
    case OpCode.error:
      return { type, err: r.int() };
    default:
      throw new JuteError(`bad txn type ${type}`);
  }
}

function copy(b: Buffer | null): Buffer | null {
  return b === null ? null : Buffer.from(b);
}
