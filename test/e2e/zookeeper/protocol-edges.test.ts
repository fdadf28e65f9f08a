// Handshake and framing edge cases with hand-built frames, against kts and Apache ZooKeeper 3.8:
// timeout negotiation, resume with a wrong password, a client ahead of the server, unknown ops,
// oversized and negative frame lengths, and maxClientCnxns.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from '../../../src/coordinator/index.js';
import {
  type ConnectResponse,
  ErrorCode,
  FrameDecoder,
  OpCode,
  OPEN_ACL_UNSAFE,
  type ReplyHeader,
  type ZkRequest,
  decodeConnectResponse,
  decodeReply,
  encodeConnectRequest,
  encodeRequest,
} from '../../../src/protocol/zookeeper/index.js';
import { fourLetter, runInterop, startRealZooKeeper, tempDir } from '../../helpers/zookeeper.js';

const TICK = 500;

/** A socket speaking frames by hand. */
async function raw(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => socket.once('connect', () => r()).once('error', j));
  const decoder = new FrameDecoder(1 << 21);
  const frames: Buffer[] = [];
  const waiters: (() => void)[] = [];
  let closed = false;
  socket.on('data', (d) => {
    decoder.push(d);
    for (let f = decoder.next(); f; f = decoder.next()) frames.push(Buffer.from(f));
    waiters.splice(0).forEach((w) => w());
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    waiters.splice(0).forEach((w) => w());
  });
  const next = async (): Promise<Buffer | null> => {
    while (frames.length === 0 && !closed) await new Promise<void>((r) => waiters.push(r));
    return frames.shift() ?? null;
  };
  return {
    socket,
    next,
    get closed() {
      return closed;
    },
    waitClosed: () => new Promise<void>((r) => (closed ? r() : socket.once('close', () => r()))),
    async connect(o: { timeOut?: number; sessionId?: bigint; passwd?: Buffer; lastZxidSeen?: number } = {}): Promise<ConnectResponse | null> {
      socket.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: o.lastZxidSeen ?? 0, timeOut: o.timeOut ?? 4000, sessionId: o.sessionId ?? 0n, passwd: o.passwd ?? Buffer.alloc(16), readOnly: false }));
      const f = await next();
      return f && decodeConnectResponse(f);
    },
    async request(xid: number, req: ZkRequest): Promise<ReplyHeader | null> {
      socket.write(encodeRequest(xid, req));
      const f = await next();
      return f && decodeReply(f, () => req.type).header;
    },
  };
}

const targets: { name: string; start(): Promise<{ port: number; stop(): Promise<void> }> }[] = [
  {
    name: 'kts',
    start: async () => {
      const h = await startCoordinator({ port: 0, dataDir: tempDir('kts-zk-edges-'), tickTime: TICK, maxClientCnxns: 10 });
      return { port: h.port, stop: () => h.close() };
    },
  },
];
if (runInterop) targets.push({ name: 'Apache ZooKeeper 3.8', start: () => startRealZooKeeper({ tickTime: TICK }) });

describe.each(targets)('protocol edges against $name', (target) => {
  let server: { port: number; stop(): Promise<void> };
  beforeAll(async () => {
    server = await target.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('clamps the session timeout to [2, 20] ticks', async () => {
    for (const [asked, granted] of [
      [100, 2 * TICK],
      [100_000, 20 * TICK],
      [3000, 3000],
    ]) {
      const c = await raw(server.port);
      expect((await c.connect({ timeOut: asked }))!.timeOut).toBe(granted);
      c.socket.destroy();
    }
  });

  it('resumes with the right password, refuses a wrong one with timeOut 0 and closes', async () => {
    const a = await raw(server.port);
    const res = (await a.connect())!;
    expect(res.sessionId).not.toBe(0n);
    expect(res.passwd).toHaveLength(16);
    const b = await raw(server.port);
    expect(await b.connect({ sessionId: res.sessionId, passwd: res.passwd })).toMatchObject({ sessionId: res.sessionId, timeOut: 4000 });
    await a.waitClosed(); // the old connection of a moved session is closed
    const wrong = Buffer.from(res.passwd);
    wrong[3] ^= 1;
    const c = await raw(server.port);
    expect(await c.connect({ sessionId: res.sessionId, passwd: wrong })).toMatchObject({ timeOut: 0, sessionId: 0n, passwd: Buffer.alloc(16) });
    await c.waitClosed();
    if (target.name === 'kts') {
      // kts checks the password before touching the live connection.
      expect(await b.request(1, { type: OpCode.exists, path: '/', watch: false })).toMatchObject({ err: 0 });
    } else {
      // ZooKeeper closes the session's current connection before it checks the password, so
      // anyone who knows a session id can disconnect it (the client then reconnects).
      await b.waitClosed();
    }
    b.socket.destroy();
  });

  it('refuses a client that has seen a later zxid than the server', async () => {
    const c = await raw(server.port);
    expect(await c.connect({ lastZxidSeen: 1_000_000 })).toBeNull();
    expect(c.closed).toBe(true);
  });

  it('answers an unknown op with Unimplemented, and a failed write still consumes a zxid', async () => {
    const c = await raw(server.port);
    await c.connect();
    const bad = await c.request(1, { type: OpCode.create, path: '/no/parent', data: null, acl: [...OPEN_ACL_UNSAFE], flags: 0 });
    expect(bad!.err).toBe(ErrorCode.NoNode);
    const ok = await c.request(2, { type: OpCode.create, path: '/edge', data: null, acl: [...OPEN_ACL_UNSAFE], flags: 0 });
    expect(ok!.zxid).toBe(bad!.zxid + 1);
    const del = await c.request(3, { type: OpCode.delete, path: '/edge', version: -1 });
    expect(del!.err).toBe(0);
    c.socket.write(Buffer.from([0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0x03, 0xe7]));
    const reply = decodeReply((await c.next())!, () => 999).header;
    expect(reply).toEqual({ xid: 4, zxid: -1, err: ErrorCode.Unimplemented });
  });

  it('drops a connection whose frame length is over jute.maxbuffer or negative', async () => {
    for (const len of [Buffer.from([0x7f, 0xff, 0xff, 0xff]), Buffer.from([0x00, 0x10, 0x00, 0x00]), Buffer.from([0xff, 0xff, 0xff, 0xf0])]) {
      const c = await raw(server.port);
      await c.connect();
      c.socket.write(len);
      await c.waitClosed();
    }
    expect(await fourLetter(server.port, 'srvr')).toMatch(/Mode: standalone/);
  });
});

describe('maxClientCnxns (kts)', () => {
  let h: Awaited<ReturnType<typeof startCoordinator>>;
  beforeAll(async () => {
    h = await startCoordinator({ port: 0, dataDir: tempDir('kts-zk-cnxns-'), maxClientCnxns: 3 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses connections from one IP beyond the limit', async () => {
    const conns = await Promise.all([raw(h.port), raw(h.port), raw(h.port)]);
    for (const c of conns) expect(await c.connect()).not.toBeNull();
    const extra = await raw(h.port);
    await extra.waitClosed();
    conns[0].socket.destroy();
    await conns[0].waitClosed();
    // The server frees the slot when it sees the close, a moment after this side: poll for it.
    let again = await raw(h.port);
    let session = await again.connect();
    for (const deadline = Date.now() + 10_000; !session && Date.now() < deadline; session = await again.connect()) {
      await new Promise((r) => setTimeout(r, 25));
      again = await raw(h.port);
    }
    expect(session).not.toBeNull();
    for (const c of [...conns, again]) c.socket.destroy();
  });
});
