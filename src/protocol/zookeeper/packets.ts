// Whole packets: header + body, framed. What a socket writes and what a frame decodes to.
import { OpCode, Xid } from './constants.js';
import { JuteReader, JuteWriter } from './jute.js';
import { type ZkRequest, type ZkResponse, readRequest, readResponse, writeRequest, writeResponse } from './messages.js';
import {
  type ConnectRequest,
  type ConnectResponse,
  type ReplyHeader,
  type RequestHeader,
  type WatcherEvent,
  readConnectRequest,
  readConnectResponse,
  readReplyHeader,
  readWatcherEvent,
  writeConnectRequest,
  writeConnectResponse,
  writeReplyHeader,
  writeWatcherEvent,
} from './records.js';

export function encodeConnectRequest(c: ConnectRequest, w = new JuteWriter(64)): Buffer {
  w.beginFrame();
  writeConnectRequest(w, c);
  return w.finishFrame();
}

export function decodeConnectRequest(frame: Buffer): ConnectRequest {
  return readConnectRequest(new JuteReader(frame));
}

export function encodeConnectResponse(c: ConnectResponse, w = new JuteWriter(64)): Buffer {
  w.beginFrame();
  writeConnectResponse(w, c);
  return w.finishFrame();
}

export function decodeConnectResponse(frame: Buffer): ConnectResponse {
  return readConnectResponse(new JuteReader(frame));
}

export function encodeRequest(xid: number, req: ZkRequest, w = new JuteWriter()): Buffer {
  w.beginFrame();
  w.int(xid).int(req.type);
  writeRequest(w, req);
  return w.finishFrame();
}

export function readRequestHeader(r: JuteReader): RequestHeader {
  return { xid: r.int(), type: r.int() };
}

/** Decodes a request frame. Throws UnknownOpError (with the header already read) or JuteError. */
export function decodeRequest(frame: Buffer): { header: RequestHeader; request: ZkRequest } {
  const r = new JuteReader(frame);
  const header = readRequestHeader(r);
  return { header, request: readRequest(r, header.type) };
}

/** A reply: the header, and the body only when err is 0 and the op has one. */
export function encodeReply(header: ReplyHeader, type: number, body: ZkResponse | null, w = new JuteWriter()): Buffer {
  w.beginFrame();
  writeReplyHeader(w, header);
  if (header.err === 0 && body !== null) writeResponse(w, type, body);
  return w.finishFrame();
}

/** A watch notification: xid -1, zxid -1, err 0, then the WatcherEvent. */
export function encodeNotification(event: WatcherEvent, w = new JuteWriter(64)): Buffer {
  w.beginFrame();
  writeReplyHeader(w, { xid: Xid.notification, zxid: -1, err: 0 });
  writeWatcherEvent(w, event);
  return w.finishFrame();
}

export type DecodedReply =
  | { kind: 'notification'; header: ReplyHeader; event: WatcherEvent }
  | { kind: 'reply'; header: ReplyHeader; body: ZkResponse | null };

/**
 * Decodes a server packet. `opOf` gives the op of the request a reply answers (by xid); it is
 * not called for notifications, pings and auth replies.
 */
export function decodeReply(frame: Buffer, opOf: (xid: number) => number | undefined): DecodedReply {
  const r = new JuteReader(frame);
  const header = readReplyHeader(r);
  if (header.xid === Xid.notification) return { kind: 'notification', header, event: readWatcherEvent(r) };
  if (header.xid === Xid.ping || header.xid === Xid.auth || header.err !== 0) return { kind: 'reply', header, body: null };
  const op = opOf(header.xid);
  if (op === undefined || op === OpCode.ping || op === OpCode.auth) return { kind: 'reply', header, body: null };
  return { kind: 'reply', header, body: readResponse(r, op) };
}
