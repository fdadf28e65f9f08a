// The connection's request pipeline: consecutive Produce requests overlap, every other request runs
// alone, answers keep request order, and nothing after a request that closes the connection runs.
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/broker/logger.js';
import { Connection, HIGH_WATER_BYTES, MAX_OVERLAPPING_PRODUCES } from '../../../src/broker/network/connection.js';

/** A frame: apiKey, then a correlation id the fake handler echoes back. */
function frame(apiKey: number, id: number): Buffer {
  const b = Buffer.alloc(4 + 8);
  b.writeInt32BE(8, 0);
  b.writeInt16BE(apiKey, 4);
  b.writeInt16BE(0, 6);
  b.writeInt32BE(id, 8);
  return b;
}

/** A frame of `size` bytes after its size prefix (apiKey, version, id, then padding). */
function bigFrame(apiKey: number, id: number, size: number): Buffer {
  const b = Buffer.alloc(4 + size);
  b.writeInt32BE(size, 0);
  b.writeInt16BE(apiKey, 4);
  b.writeInt32BE(id, 8);
  return b;
}

interface Call {
  id: number;
  apiKey: number;
  resolve(response: Buffer[] | null): void;
  reject(err: Error): void;
}

async function setup() {
  const calls: Call[] = [];
  const events: string[] = [];
  let connection: Connection | undefined;
  let maxInFlight = 0;
  const server = createServer((socket) => {
    connection = new Connection(socket, {
      id: 1,
      maxFrameSize: 1 << 20,
      idleTimeoutMs: 0,
      log: createLogger({ level: 'silent' }),
      handleFrame(f) {
        const id = f.readInt32BE(4);
        events.push(`start ${id}`);
        return new Promise((resolve, reject) => {
          calls.push({ id, apiKey: f.readInt16BE(0), resolve, reject });
          maxInFlight = Math.max(maxInFlight, connection!.inFlightCount);
        });
      },
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client: Socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  const answers: number[] = [];
  let closed = false;
  let pending = Buffer.alloc(0);
  client.on('data', (d) => {
    pending = Buffer.concat([pending, d]);
    while (pending.length >= 8) {
      answers.push(pending.readInt32BE(4));
      pending = pending.subarray(8);
    }
  });
  client.on('close', () => (closed = true));
  const answer = (id: number) => {
    const b = Buffer.alloc(8);
    b.writeInt32BE(4, 0);
    b.writeInt32BE(id, 4);
    return [b];
  };
  const call = (id: number) => calls.find((c) => c.id === id)!;
  // Bounded by time, not by a count of 5 ms sleeps (each of which runs late on a loaded machine).
  const until = async (cond: () => boolean) => {
    for (const deadline = Date.now() + 10_000; !cond() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5));
    expect(cond()).toBe(true);
  };
  return {
    client,
    calls,
    events,
    answers,
    answer,
    call,
    until,
    isClosed: () => closed,
    maxInFlight: () => maxInFlight,
    close: () => {
      client.destroy();
      connection?.close();
      server.close();
    },
  };
}

let env: Awaited<ReturnType<typeof setup>> | undefined;
afterEach(() => env?.close());

describe('Connection request pipeline', () => {
  it('overlaps consecutive Produce requests and answers them in request order', async () => {
    env = await setup();
    const e = env;
    e.client.write(Buffer.concat([1, 2, 3, 4].map((id) => frame(0, id))));
    await e.until(() => e.calls.length === 4);
    expect(e.maxInFlight()).toBe(4);
    // Finishing out of order: the answers still leave in order, each once its predecessors are done.
    e.call(3).resolve(e.answer(3));
    e.call(2).resolve(e.answer(2));
    await new Promise((r) => setTimeout(r, 20));
    expect(e.answers).toEqual([]);
    e.call(1).resolve(e.answer(1));
    await e.until(() => e.answers.length === 3);
    expect(e.answers).toEqual([1, 2, 3]);
    e.call(4).resolve(e.answer(4));
    await e.until(() => e.answers.length === 4);
    expect(e.answers).toEqual([1, 2, 3, 4]);
  });

  it('runs any other request alone: after the produces before it, before the produces after it', async () => {
    env = await setup();
    const e = env;
    e.client.write(Buffer.concat([frame(0, 1), frame(0, 2), frame(3, 3), frame(0, 4), frame(0, 5)]));
    await e.until(() => e.calls.length === 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(e.events).toEqual(['start 1', 'start 2']);
    e.call(1).resolve(e.answer(1));
    e.call(2).resolve(e.answer(2));
    await e.until(() => e.calls.length === 3);
    await new Promise((r) => setTimeout(r, 20));
    expect(e.events).toEqual(['start 1', 'start 2', 'start 3']);
    e.call(3).resolve(e.answer(3));
    await e.until(() => e.calls.length === 5);
    e.call(5).resolve(e.answer(5));
    e.call(4).resolve(null); // acks=0: no answer
    await e.until(() => e.answers.length === 4);
    expect(e.answers).toEqual([1, 2, 3, 5]);
  });

  it(`keeps at most ${MAX_OVERLAPPING_PRODUCES} produces in flight`, async () => {
    env = await setup();
    const e = env;
    const n = MAX_OVERLAPPING_PRODUCES + 4;
    e.client.write(Buffer.concat(Array.from({ length: n }, (_, i) => frame(0, i + 1))));
    await e.until(() => e.calls.length === MAX_OVERLAPPING_PRODUCES);
    await new Promise((r) => setTimeout(r, 20));
    expect(e.calls.length).toBe(MAX_OVERLAPPING_PRODUCES);
    e.call(1).resolve(e.answer(1));
    await e.until(() => e.calls.length === MAX_OVERLAPPING_PRODUCES + 1);
    for (let id = 2; id <= n; id++) {
      await e.until(() => e.calls.length >= Math.min(n, id - 1 + MAX_OVERLAPPING_PRODUCES));
      e.call(id).resolve(e.answer(id));
    }
    await e.until(() => e.answers.length === n);
    expect(e.answers).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  });

  it(`holds at most ${HIGH_WATER_BYTES >> 20} MiB of produce frames in flight, however many are sent`, async () => {
    env = await setup();
    const e = env;
    // 12 frames of 900 KiB: fewer than MAX_OVERLAPPING_PRODUCES, 10.5 MiB in all.
    const size = 900 * 1024;
    const fit = Math.floor(HIGH_WATER_BYTES / size);
    expect(fit).toBeLessThan(MAX_OVERLAPPING_PRODUCES);
    for (let id = 1; id <= 12; id++) e.client.write(bigFrame(0, id, size));
    await e.until(() => e.calls.length === fit);
    await new Promise((r) => setTimeout(r, 50));
    expect(e.calls.length).toBe(fit);
    // Each answer lets the next frame in; all 12 are answered in order.
    for (let id = 1; id <= 12; id++) {
      await e.until(() => e.calls.length >= Math.min(12, id - 1 + fit));
      expect(e.calls.length).toBeLessThanOrEqual(id - 1 + fit);
      e.call(id).resolve(e.answer(id));
    }
    await e.until(() => e.answers.length === 12);
    expect(e.answers).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('a request that fails at once closes the connection: nothing after it starts, earlier answers are sent', async () => {
    const failing = new Set([2]);
    // Request 2 fails at once, like a malformed frame; request 1 is still being handled then.
    const started: number[] = [];
    const server = createServer((socket) => {
      new Connection(socket, {
        id: 2,
        maxFrameSize: 1 << 20,
        idleTimeoutMs: 0,
        log: createLogger({ level: 'silent' }),
        async handleFrame(f) {
          const id = f.readInt32BE(4);
          started.push(id);
          if (failing.has(id)) throw new Error('malformed');
          await new Promise((r) => setTimeout(r, 30));
          const b = Buffer.alloc(8);
          b.writeInt32BE(4, 0);
          b.writeInt32BE(id, 4);
          return [b];
        },
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const got: number[] = [];
    let buf = Buffer.alloc(0);
    client.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        got.push(buf.readInt32BE(4));
        buf = buf.subarray(8);
      }
    });
    const closed = new Promise((r) => client.on('close', r));
    client.write(Buffer.concat([frame(0, 1), frame(0, 2), frame(0, 3), frame(0, 4)]));
    await closed;
    server.close();
    expect(started).toEqual([1, 2]);
    expect(got).toEqual([1]);
  });

  it("reads a plain TCP client's requests in place: frames from many small writes arrive byte for byte, the server's count follows", async () => {
    const frames = [1_048_600, 10, 300_000, 0, 70_000].map((n, i) => {
      const b = Buffer.alloc(4 + Math.max(n, 8));
      b.writeInt32BE(b.length - 4, 0);
      b.writeInt16BE(0, 4); // Produce: overlappable
      b.writeInt32BE(i, 8);
      for (let j = 12; j < b.length; j++) b[j] = (j * 13 + i) & 0xff;
      return b;
    });
    const got: Buffer[] = [];
    let accepted: Socket | undefined;
    let connection: Connection | undefined;
    const server = createServer((socket) => {
      accepted = socket;
      connection = new Connection(socket, {
        id: 3,
        maxFrameSize: 2 << 20,
        idleTimeoutMs: 0,
        log: createLogger({ level: 'silent' }),
        async handleFrame(f) {
          got.push(Buffer.from(f));
          const b = Buffer.alloc(8);
          b.writeInt32BE(4, 0);
          b.writeInt32BE(f.readInt32BE(4), 4);
          return [b];
        },
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    let answered = 0;
    client.on('data', (d) => (answered += d.length / 8));
    const all = Buffer.concat(frames);
    for (let p = 0, i = 0; p < all.length; i++) {
      const n = 1 + ((i * 7919) % 9000);
      client.write(all.subarray(p, p + n));
      p += n;
      if (i % 16 === 0) await new Promise((r) => setImmediate(r)); // let reads end mid-frame
    }
    for (const deadline = Date.now() + 10_000; answered < frames.length && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5));
    expect(got.length).toBe(frames.length);
    got.forEach((f, i) => expect(f.equals(frames[i].subarray(4)), `frame ${i}`).toBe(true));
    expect(connection!.socket).not.toBe(accepted); // read through onread (socket-reads.ts), not 'data'
    expect(await new Promise((r) => server.getConnections((_, n) => r(n)))).toBe(1);
    client.destroy();
    const serverClosed = new Promise((r) => server.close(r));
    await serverClosed; // resolves only once the moved socket closed and the server's count reached 0
  });
});
