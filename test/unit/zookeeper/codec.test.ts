// Golden bytes: every frame that zkCli.sh 3.8.0, node-zookeeper-client 1.1.3 and hand-built
// requests exchanged with a real ZooKeeper 3.8.0 (fixtures/*.json, recorded by
// fixtures/capture.mjs) must decode, and re-encode to exactly the same bytes.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  EventType,
  FrameDecoder,
  FrameTooLargeError,
  JuteReader,
  JuteWriter,
  OpCode,
  UnknownOpError,
  Xid,
  type MultiRequest,
  decodeConnectRequest,
  decodeConnectResponse,
  decodeReply,
  decodeRequest,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeNotification,
  encodeReply,
  encodeRequest,
  readReplyHeader,
} from '../../../src/protocol/zookeeper/index.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
interface Fixture {
  connections: { request: (string | { unframed: string })[]; response: (string | { unframed: string })[] }[];
}
const load = (name: string): Fixture => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
const hex = (f: string | { unframed: string }) => {
  if (typeof f !== 'string') throw new Error('unframed bytes in fixture');
  return Buffer.from(f, 'hex');
};
const body = (frame: Buffer) => frame.subarray(4);

/** Decodes and re-encodes one recorded connection; returns what it saw, for further checks. */
function roundTrip(conn: Fixture['connections'][number]) {
  const ops = new Map<number, number>();
  const seen = { requests: [] as ReturnType<typeof decodeRequest>[], replies: [] as ReturnType<typeof decodeReply>[] };
  const [connReq, ...reqs] = conn.request.map(hex);
  const [connRes, ...ress] = conn.response.map(hex);
  const c = decodeConnectRequest(body(connReq));
  expect(encodeConnectRequest(c)).toEqual(connReq);
  if (connRes) {
    const r = decodeConnectResponse(body(connRes));
    expect(encodeConnectResponse(r)).toEqual(connRes);
    expect(r.readOnly !== undefined).toBe(c.readOnly !== undefined);
  }
  for (const frame of reqs) {
    const type = frame.readInt32BE(8);
    if (type === 999) {
      // The deliberately unknown op: the codec refuses it, the server answers Unimplemented.
      expect(() => decodeRequest(body(frame))).toThrow(UnknownOpError);
      ops.set(frame.readInt32BE(4), type);
      continue;
    }
    const d = decodeRequest(body(frame));
    seen.requests.push(d);
    ops.set(d.header.xid, d.header.type);
    expect(encodeRequest(d.header.xid, d.request)).toEqual(frame);
  }
  for (const frame of ress) {
    const d = decodeReply(body(frame), (xid) => ops.get(xid));
    seen.replies.push(d);
    if (d.kind === 'notification') {
      expect(encodeNotification(d.event)).toEqual(frame);
    } else {
      const op = ops.get(d.header.xid) ?? OpCode.ping;
      expect(encodeReply(d.header, op, d.body)).toEqual(frame);
    }
  }
  return seen;
}

describe('golden frames from real ZooKeeper 3.8.0', () => {
  for (const name of ['zkcli-commands', 'node-client', 'node-reconnect', 'raw-ops']) {
    it(`${name}: every frame decodes and re-encodes byte for byte`, () => {
      const f = load(name);
      expect(f.connections.length).toBeGreaterThan(0);
      for (const conn of f.connections) roundTrip(conn);
    });
  }

  it('zkCli sends a 45-byte ConnectRequest with readOnly; node-zookeeper-client 44 bytes without', () => {
    const zkcli = hex(load('zkcli-commands').connections[0].request[0] as string);
    const node = hex(load('node-client').connections[0].request[0] as string);
    expect(zkcli.readInt32BE(0)).toBe(45);
    expect(node.readInt32BE(0)).toBe(44);
    const c = decodeConnectRequest(body(zkcli));
    expect(c).toMatchObject({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 30000, sessionId: 0n, readOnly: false });
    expect(c.passwd).toEqual(Buffer.alloc(16));
    expect(decodeConnectRequest(body(node)).readOnly).toBeUndefined();
  });

  it('decodes zkCli create, create -e -s and their replies', () => {
    const conns = load('zkcli-commands').connections;
    const create = roundTrip(conns[0]);
    expect(create.requests[0].request).toMatchObject({ type: OpCode.create, path: '/kts', flags: 0 });
    expect((create.requests[0].request as { data: Buffer }).data.toString()).toBe('hello');
    expect(create.replies[0]).toMatchObject({ kind: 'reply', body: { path: '/kts' } });
    const eph = roundTrip(conns[1]);
    expect(eph.requests[0].request).toMatchObject({ type: OpCode.create, path: '/kts/eph-', flags: 3 });
    expect(eph.replies[0]).toMatchObject({ body: { path: '/kts/eph-0000000000' } });
  });

  it('decodes a failed multi: header err 0, per-op errors 0 / -103 / -2', () => {
    const seen = roundTrip(load('node-client').connections[0]);
    const failed = seen.requests.find((r) => r.request.type === OpCode.multi && (r.request as MultiRequest).ops.some((o) => 'version' in o && o.version === 42));
    expect(failed).toBeDefined();
    const reply = seen.replies.find((r) => r.kind === 'reply' && r.header.xid === failed!.header.xid);
    expect(reply).toMatchObject({
      header: { err: 0 },
      body: {
        results: [
          { type: -1, err: 0 },
          { type: -1, err: ErrorCode.BadVersion },
          { type: -1, err: ErrorCode.RuntimeInconsistency },
        ],
      },
    });
  });

  it('decodes notifications, setWatches after reconnect and the auth packet', () => {
    const seen = roundTrip(load('node-client').connections[0]);
    const events = seen.replies.filter((r) => r.kind === 'notification').map((r) => r.kind === 'notification' && r.event);
    expect(events).toEqual([
      { type: EventType.NodeDataChanged, state: 3, path: '/n' },
      { type: EventType.NodeCreated, state: 3, path: '/n/later' },
      { type: EventType.NodeChildrenChanged, state: 3, path: '/n' },
    ]);
    const auth = seen.requests.find((r) => r.header.xid === Xid.auth)!;
    expect(auth.request).toMatchObject({ type: OpCode.auth, authType: 0, scheme: 'digest' });
    const reconnect = roundTrip(load('node-reconnect').connections[1]);
    expect(reconnect.requests[0].request).toMatchObject({
      type: OpCode.setWatches,
      dataWatches: ['/r'],
      existWatches: ['/r/missing'],
      childWatches: ['/r'],
    });
  });

  it('decodes multiRead, create2, createTTL, whoAmI, setWatches2 and the Unimplemented reply', () => {
    const seen = roundTrip(load('raw-ops').connections[0]);
    const byXid = (xid: number) => seen.replies.find((r) => r.kind === 'reply' && r.header.xid === xid);
    expect(byXid(7)).toMatchObject({ body: { results: [{ type: OpCode.getChildren, children: ['s-0000000000'] }, { type: OpCode.getData }, { type: -1, err: ErrorCode.NoNode }] } });
    expect(byXid(2)).toMatchObject({ body: { path: '/raw/s-0000000000', stat: { dataLength: 0 } } });
    expect(byXid(3)).toMatchObject({ header: { err: ErrorCode.BadArguments } });
    expect(byXid(4)).toMatchObject({ header: { err: ErrorCode.InvalidACL } });
    expect(byXid(12)).toMatchObject({ header: { err: ErrorCode.NoWatcher } });
    expect(byXid(16)).toMatchObject({ body: { clientInfo: [{ authScheme: 'ip', user: '127.0.0.1' }] } });
    expect(byXid(25)).toMatchObject({ header: { err: ErrorCode.Unimplemented, zxid: -1 } });
    expect(seen.requests.find((r) => r.header.xid === 13)!.request).toMatchObject({ type: OpCode.setWatches2, persistentWatches: ['/raw/m'] });
  });

  it('keeps null data distinct from empty data', () => {
    const seen = roundTrip(load('node-client').connections[0]);
    const nullCreate = seen.requests.find((r) => 'path' in r.request && r.request.path === '/n/null')!;
    expect((nullCreate.request as { data: Buffer | null }).data).toBeNull();
    const w = new JuteWriter();
    w.buffer(null).buffer(Buffer.alloc(0));
    const r = new JuteReader(w.bytes());
    expect(r.buffer()).toBeNull();
    expect(r.buffer()).toEqual(Buffer.alloc(0));
  });
});

describe('codec edge cases', () => {
  it('round-trips longs above 2^32 and session ids above 2^53', () => {
    const w = new JuteWriter(4);
    w.long(0x1_0000_0005).long(-1).bigint(0x01000066dbe70000n);
    const r = new JuteReader(w.bytes());
    expect([r.long(), r.long(), r.bigint()]).toEqual([0x1_0000_0005, -1, 0x01000066dbe70000n]);
  });

  it('refuses truncated bodies, negative lengths and vectors longer than the frame', () => {
    expect(() => new JuteReader(Buffer.from([0, 0, 0, 5, 1])).buffer()).toThrow(RangeError);
    expect(() => new JuteReader(Buffer.from([0xff, 0xff, 0xff, 0xfe])).string()).toThrow(RangeError);
    expect(() => new JuteReader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).strings()).toThrow(RangeError);
    expect(() => decodeRequest(Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 0]))).toThrow(RangeError);
  });

  it('splits frames across chunk boundaries and refuses oversized lengths before buffering', () => {
    const frames = [encodeRequest(1, { type: OpCode.ping }), encodeRequest(2, { type: OpCode.sync, path: '/a' })];
    const all = Buffer.concat(frames);
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new FrameDecoder(1024);
      d.push(all.subarray(0, cut));
      const out: Buffer[] = [];
      for (let f = d.next(); f; f = d.next()) out.push(Buffer.from(f));
      d.push(all.subarray(cut));
      for (let f = d.next(); f; f = d.next()) out.push(Buffer.from(f));
      expect(out).toEqual(frames.map(body));
    }
    const d = new FrameDecoder(0xfffff);
    d.push(Buffer.from([0x00, 0x10, 0x00, 0x00]));
    expect(() => d.next()).toThrow(FrameTooLargeError);
    const neg = new FrameDecoder(0xfffff);
    neg.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0]));
    expect(() => neg.next()).toThrow(FrameTooLargeError);
  });

  it('writes an error reply as a bare header', () => {
    const frame = encodeReply({ xid: 8, zxid: 4, err: ErrorCode.NoNode }, OpCode.create, { path: '/x' });
    expect(frame.toString('hex')).toBe('000000100000000800000000000000' + '04ffffff9b');
    expect(readReplyHeader(new JuteReader(body(frame)))).toEqual({ xid: 8, zxid: 4, err: -101 });
  });
});
