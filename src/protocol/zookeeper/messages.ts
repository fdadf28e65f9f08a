// Request and response bodies of the client protocol, keyed by op code. A request carries its
// op in the RequestHeader, so requests decode on their own; a response has no op of its own and
// is decoded with the op of the request it answers (matched by xid).
import { ErrorCode, OpCode } from './constants.js';
import { JuteError, JuteReader, JuteWriter } from './jute.js';
import {
  type ACL,
  type MultiHeader,
  type Stat,
  readACL,
  readMultiHeader,
  readStat,
  writeACL,
  writeMultiHeader,
  writeStat,
} from './records.js';

type O = typeof OpCode;

export interface CreateRequest {
  type: O['create'] | O['create2'] | O['createContainer'] | O['createTTL'];
  path: string;
  data: Buffer | null;
  acl: ACL[];
  flags: number;
  /** createTTL only. */
  ttl?: number;
}
export interface PathVersionRequest {
  type: O['delete'] | O['check'];
  path: string;
  version: number;
}
export interface PathWatchRequest {
  type: O['exists'] | O['getData'] | O['getChildren'] | O['getChildren2'];
  path: string;
  watch: boolean;
}
export interface SetDataRequest {
  type: O['setData'];
  path: string;
  data: Buffer | null;
  version: number;
}
export interface PathRequest {
  type: O['getACL'] | O['sync'] | O['deleteContainer'] | O['getEphemerals'] | O['getAllChildrenNumber'];
  path: string;
}
export interface SetACLRequest {
  type: O['setACL'];
  path: string;
  acl: ACL[];
  version: number;
}
export interface WatchTypeRequest {
  type: O['checkWatches'] | O['removeWatches'];
  path: string;
  watcherType: number;
}
export interface AddWatchRequest {
  type: O['addWatch'];
  path: string;
  mode: number;
}
export type MultiOp = CreateRequest | PathVersionRequest | SetDataRequest | PathWatchRequest;
export interface MultiRequest {
  type: O['multi'] | O['multiRead'];
  ops: MultiOp[];
}
export interface SetWatchesRequest {
  type: O['setWatches'] | O['setWatches2'];
  relativeZxid: number;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
  /** setWatches2 only. */
  persistentWatches?: string[];
  persistentRecursiveWatches?: string[];
}
export interface AuthRequest {
  type: O['auth'];
  authType: number;
  scheme: string;
  auth: Buffer | null;
}
export interface SaslRequest {
  type: O['sasl'];
  token: Buffer | null;
}
export interface ReconfigRequest {
  type: O['reconfig'];
  joiningServers: string | null;
  leavingServers: string | null;
  newMembers: string | null;
  curConfigId: number;
}
export interface EmptyRequest {
  type: O['ping'] | O['closeSession'] | O['whoAmI'];
}

export type ZkRequest =
  | CreateRequest
  | PathVersionRequest
  | PathWatchRequest
  | SetDataRequest
  | PathRequest
  | SetACLRequest
  | WatchTypeRequest
  | AddWatchRequest
  | MultiRequest
  | SetWatchesRequest
  | AuthRequest
  | SaslRequest
  | ReconfigRequest
  | EmptyRequest;

/** Thrown for an op code this codec does not know; the server answers Unimplemented. */
export class UnknownOpError extends JuteError {
  constructor(readonly type: number) {
    super(`unknown op code ${type}`);
  }
}

const MULTI_END: MultiHeader = { type: -1, done: true, err: -1 };

export function readRequest(r: JuteReader, type: number): ZkRequest {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL: {
      const req: CreateRequest = { type, path: r.text(), data: r.buffer(), acl: r.vector(readACL) ?? [], flags: r.int() };
      if (type === OpCode.createTTL) req.ttl = r.long();
      return req;
    }
    case OpCode.delete:
    case OpCode.check:
      return { type, path: r.text(), version: r.int() };
    case OpCode.exists:
    case OpCode.getData:
    case OpCode.getChildren:
    case OpCode.getChildren2:
      return { type, path: r.text(), watch: r.bool() };
    case OpCode.setData:
      return { type, path: r.text(), data: r.buffer(), version: r.int() };
    case OpCode.getACL:
    case OpCode.sync:
    case OpCode.deleteContainer:
    case OpCode.getEphemerals:
    case OpCode.getAllChildrenNumber:
      return { type, path: r.text() };
    case OpCode.setACL:
      return { type, path: r.text(), acl: r.vector(readACL) ?? [], version: r.int() };
    case OpCode.checkWatches:
    case OpCode.removeWatches:
      return { type, path: r.text(), watcherType: r.int() };
    case OpCode.addWatch:
      return { type, path: r.text(), mode: r.int() };
    case OpCode.multi:
    case OpCode.multiRead: {
      const ops: MultiOp[] = [];
      for (;;) {
        const h = readMultiHeader(r);
        if (h.done) break;
        const op = readRequest(r, h.type);
        if (!isMultiOp(op)) throw new JuteError(`op ${h.type} is not allowed in multi`);
        ops.push(op);
      }
      return { type, ops };
    }
    case OpCode.setWatches:
    case OpCode.setWatches2: {
      const req: SetWatchesRequest = {
        type,
        relativeZxid: r.long(),
        dataWatches: r.strings(),
        existWatches: r.strings(),
        childWatches: r.strings(),
      };
      if (type === OpCode.setWatches2) {
        req.persistentWatches = r.strings();
        req.persistentRecursiveWatches = r.strings();
      }
      return req;
    }
    case OpCode.auth:
      return { type, authType: r.int(), scheme: r.text(), auth: r.buffer() };
    case OpCode.sasl:
      return { type, token: r.buffer() };
    case OpCode.reconfig:
      return { type, joiningServers: r.string(), leavingServers: r.string(), newMembers: r.string(), curConfigId: r.long() };
    case OpCode.ping:
    case OpCode.closeSession:
    case OpCode.whoAmI:
      return { type };
    default:
      throw new UnknownOpError(type);
  }
}

function isMultiOp(op: ZkRequest): op is MultiOp {
  switch (op.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.delete:
    case OpCode.check:
    case OpCode.setData:
    case OpCode.getData:
    case OpCode.getChildren:
      return true;
    default:
      return false;
  }
}

export function writeRequest(w: JuteWriter, req: ZkRequest): void {
  switch (req.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      w.string(req.path).buffer(req.data).vector(req.acl, writeACL).int(req.flags);
      if (req.type === OpCode.createTTL) w.long(req.ttl ?? 0);
      return;
    case OpCode.delete:
    case OpCode.check:
      w.string(req.path).int(req.version);
      return;
    case OpCode.exists:
    case OpCode.getData:
    case OpCode.getChildren:
    case OpCode.getChildren2:
      w.string(req.path).bool(req.watch);
      return;
    case OpCode.setData:
      w.string(req.path).buffer(req.data).int(req.version);
      return;
    case OpCode.getACL:
    case OpCode.sync:
    case OpCode.deleteContainer:
    case OpCode.getEphemerals:
    case OpCode.getAllChildrenNumber:
      w.string(req.path);
      return;
    case OpCode.setACL:
      w.string(req.path).vector(req.acl, writeACL).int(req.version);
      return;
    case OpCode.checkWatches:
    case OpCode.removeWatches:
      w.string(req.path).int(req.watcherType);
      return;
    case OpCode.addWatch:
      w.string(req.path).int(req.mode);
      return;
    case OpCode.multi:
    case OpCode.multiRead:
      for (const op of req.ops) {
        writeMultiHeader(w, { type: op.type, done: false, err: -1 });
        writeRequest(w, op);
      }
      writeMultiHeader(w, MULTI_END);
      return;
    case OpCode.setWatches:
    case OpCode.setWatches2:
      w.long(req.relativeZxid).strings(req.dataWatches).strings(req.existWatches).strings(req.childWatches);
      if (req.type === OpCode.setWatches2) w.strings(req.persistentWatches ?? []).strings(req.persistentRecursiveWatches ?? []);
      return;
    case OpCode.auth:
      w.int(req.authType).string(req.scheme).buffer(req.auth);
      return;
    case OpCode.sasl:
      w.buffer(req.token);
      return;
    case OpCode.reconfig:
      w.string(req.joiningServers).string(req.leavingServers).string(req.newMembers).long(req.curConfigId);
      return;
    case OpCode.ping:
    case OpCode.closeSession:
    case OpCode.whoAmI:
      return;
  }
}

// ---- responses ----

/** One entry of a multi reply. `type` is the op's code, or -1 (error) with `err`. */
export type MultiResult =
  | { type: O['create']; path: string }
  | { type: O['create2']; path: string; stat: Stat }
  | { type: O['delete'] | O['check'] }
  | { type: O['setData']; stat: Stat }
  | { type: O['getChildren']; children: string[] }
  | { type: O['getData']; data: Buffer | null; stat: Stat }
  | { type: O['error']; err: number };

export type ZkResponse =
  | { path: string } // create, sync
  | { path: string; stat: Stat } // create2, createContainer, createTTL
  | { stat: Stat } // exists, setData, setACL
  | { data: Buffer | null; stat: Stat } // getData
  | { acl: ACL[]; stat: Stat } // getACL
  | { children: string[] } // getChildren, getEphemerals (as children)
  | { children: string[]; stat: Stat } // getChildren2
  | { results: MultiResult[] } // multi, multiRead
  | { totalNumber: number } // getAllChildrenNumber
  | { clientInfo: { authScheme: string; user: string }[] } // whoAmI
  | { token: Buffer | null } // sasl
  | { err: number } // addWatch (ErrorResponse)
  | Record<string, never>; // everything else: no body

/** Typed views of ZkResponse, for callers that know what they asked. */
export type CreateResponse = { path: string; stat?: Stat };
export type GetDataResponse = { data: Buffer | null; stat: Stat };
export type GetChildrenResponse = { children: string[]; stat?: Stat };
export type GetACLResponse = { acl: ACL[]; stat: Stat };
export type StatResponse = { stat: Stat };

export function readResponse(r: JuteReader, type: number): ZkResponse {
  switch (type) {
    case OpCode.create:
    case OpCode.sync:
      return { path: r.text() };
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return { path: r.text(), stat: readStat(r) };
    case OpCode.exists:
    case OpCode.setData:
    case OpCode.setACL:
      return { stat: readStat(r) };
    case OpCode.getData:
      return { data: r.buffer(), stat: readStat(r) };
    case OpCode.getACL:
      return { acl: r.vector(readACL) ?? [], stat: readStat(r) };
    case OpCode.getChildren:
    case OpCode.getEphemerals:
      return { children: r.strings() };
    case OpCode.getChildren2:
      return { children: r.strings(), stat: readStat(r) };
    case OpCode.multi:
    case OpCode.multiRead: {
      const results: MultiResult[] = [];
      for (;;) {
        const h = readMultiHeader(r);
        if (h.done) break;
        results.push(readMultiResult(r, h));
      }
      return { results };
    }
    case OpCode.getAllChildrenNumber:
      return { totalNumber: r.int() };
    case OpCode.whoAmI:
      return { clientInfo: r.vector((x) => ({ authScheme: x.text(), user: x.text() })) ?? [] };
    case OpCode.sasl:
      return { token: r.buffer() };
    case OpCode.addWatch:
      return { err: r.int() };
    default:
      return {};
  }
}

function readMultiResult(r: JuteReader, h: MultiHeader): MultiResult {
  switch (h.type) {
    case OpCode.create:
      return { type: h.type, path: r.text() };
    case OpCode.create2:
      return { type: h.type, path: r.text(), stat: readStat(r) };
    case OpCode.delete:
    case OpCode.check:
      return { type: h.type };
    case OpCode.setData:
      return { type: h.type, stat: readStat(r) };
    case OpCode.getChildren:
      return { type: h.type, children: r.strings() };
    case OpCode.getData:
      return { type: h.type, data: r.buffer(), stat: readStat(r) };
    case OpCode.error:
      return { type: h.type, err: r.int() };
    default:
      throw new JuteError(`unexpected multi result type ${h.type}`);
  }
}

export function writeResponse(w: JuteWriter, type: number, res: ZkResponse): void {
  const b = res as Partial<{
    path: string;
    stat: Stat;
    data: Buffer | null;
    acl: ACL[];
    children: string[];
    results: MultiResult[];
    totalNumber: number;
    clientInfo: { authScheme: string; user: string }[];
    token: Buffer | null;
    err: number;
  }>;
  switch (type) {
    case OpCode.create:
    case OpCode.sync:
      w.string(b.path!);
      return;
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      w.string(b.path!);
      writeStat(w, b.stat!);
      return;
    case OpCode.exists:
    case OpCode.setData:
    case OpCode.setACL:
      writeStat(w, b.stat!);
      return;
    case OpCode.getData:
      w.buffer(b.data ?? null);
      writeStat(w, b.stat!);
      return;
    case OpCode.getACL:
      w.vector(b.acl!, writeACL);
      writeStat(w, b.stat!);
      return;
    case OpCode.getChildren:
    case OpCode.getEphemerals:
      w.strings(b.children!);
      return;
    case OpCode.getChildren2:
      w.strings(b.children!);
      writeStat(w, b.stat!);
      return;
    case OpCode.multi:
    case OpCode.multiRead:
      for (const res of b.results!) writeMultiResult(w, res);
      writeMultiHeader(w, MULTI_END);
      return;
    case OpCode.getAllChildrenNumber:
      w.int(b.totalNumber!);
      return;
    case OpCode.whoAmI:
      w.vector(b.clientInfo!, (x, c) => x.string(c.authScheme).string(c.user));
      return;
    case OpCode.sasl:
      w.buffer(b.token ?? null);
      return;
    case OpCode.addWatch:
      w.int(b.err ?? ErrorCode.Ok);
      return;
    default:
      return;
  }
}

export function writeMultiResult(w: JuteWriter, res: MultiResult): void {
  const err = res.type === OpCode.error ? res.err : 0;
  writeMultiHeader(w, { type: res.type, done: false, err });
  switch (res.type) {
    case OpCode.create:
      w.string(res.path);
      return;
    case OpCode.create2:
      w.string(res.path);
      writeStat(w, res.stat);
      return;
    case OpCode.setData:
      writeStat(w, res.stat);
      return;
    case OpCode.getChildren:
      w.strings(res.children);
      return;
    case OpCode.getData:
      w.buffer(res.data);
      writeStat(w, res.stat);
      return;
    case OpCode.error:
      w.int(res.err);
      return;
    default:
      return;
  }
}
