// The fixed records of zookeeper.jute: Stat, ACL, the connect handshake, request/reply headers,
// multi headers and watcher events.
import { JuteReader, JuteWriter } from './jute.js';

export interface Stat {
  czxid: number;
  mzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: number;
}
export const STAT_SIZE = 68;

export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.long(),
    mzxid: r.long(),
    ctime: r.long(),
    mtime: r.long(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.bigint(),
    dataLength: r.int(),
    numChildren: r.int(),
    pzxid: r.long(),
  };
}

export function writeStat(w: JuteWriter, s: Stat): void {
  w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime);
  w.int(s.version).int(s.cversion).int(s.aversion);
  w.bigint(s.ephemeralOwner).int(s.dataLength).int(s.numChildren).long(s.pzxid);
}

export interface Id {
  scheme: string;
  id: string;
}
export interface ACL {
  perms: number;
  id: Id;
}

export function readACL(r: JuteReader): ACL {
  const perms = r.int();
  return { perms, id: { scheme: r.text(), id: r.text() } };
}

export function writeACL(w: JuteWriter, a: ACL): void {
  w.int(a.perms).string(a.id.scheme).string(a.id.id);
}

/** world:anyone with every permission: what Kafka and the CLIs send unless ACLs are enabled. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);

export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  /** Sent by the Java client (45-byte request), absent from node-zookeeper-client's (44 bytes). */
  readOnly?: boolean;
}

export function readConnectRequest(r: JuteReader): ConnectRequest {
  const req: ConnectRequest = {
    protocolVersion: r.int(),
    lastZxidSeen: r.long(),
    timeOut: r.int(),
    sessionId: r.bigint(),
    passwd: r.buffer() ?? Buffer.alloc(0),
  };
  if (r.remaining > 0) req.readOnly = r.bool();
  return req;
}

export function writeConnectRequest(w: JuteWriter, c: ConnectRequest): void {
  w.int(c.protocolVersion).long(c.lastZxidSeen).int(c.timeOut).bigint(c.sessionId).buffer(c.passwd);
  if (c.readOnly !== undefined) w.bool(c.readOnly);
}

export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  /** Present only when the request carried a readOnly byte. */
  readOnly?: boolean;
}

export function readConnectResponse(r: JuteReader): ConnectResponse {
  const res: ConnectResponse = {
    protocolVersion: r.int(),
    timeOut: r.int(),
    sessionId: r.bigint(),
    passwd: r.buffer() ?? Buffer.alloc(0),
  };
  if (r.remaining > 0) res.readOnly = r.bool();
  return res;
}

export function writeConnectResponse(w: JuteWriter, c: ConnectResponse): void {
  w.int(c.protocolVersion).int(c.timeOut).bigint(c.sessionId).buffer(c.passwd);
  if (c.readOnly !== undefined) w.bool(c.readOnly);
}

export interface RequestHeader {
  xid: number;
  type: number;
}

export interface ReplyHeader {
  xid: number;
  zxid: number;
  err: number;
}

export function readReplyHeader(r: JuteReader): ReplyHeader {
  return { xid: r.int(), zxid: r.long(), err: r.int() };
}

export function writeReplyHeader(w: JuteWriter, h: ReplyHeader): void {
  w.int(h.xid).long(h.zxid).int(h.err);
}

export interface MultiHeader {
  type: number;
  done: boolean;
  err: number;
}

export function readMultiHeader(r: JuteReader): MultiHeader {
  return { type: r.int(), done: r.bool(), err: r.int() };
}

export function writeMultiHeader(w: JuteWriter, h: MultiHeader): void {
  w.int(h.type).bool(h.done).int(h.err);
}

export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}

export function readWatcherEvent(r: JuteReader): WatcherEvent {
  return { type: r.int(), state: r.int(), path: r.string() ?? '' };
}

export function writeWatcherEvent(w: JuteWriter, e: WatcherEvent): void {
  w.int(e.type).int(e.state).string(e.path);
}
