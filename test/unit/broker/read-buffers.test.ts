// Fetch answers' log reads come from a small pool (storage/read-buffers.ts) and the connection gives
// each back once its answer has been written: a buffer is never reused while a write still holds
// it, and a consumer reading at full speed keeps reusing the same one or two.
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/broker/logger.js';
import { Connection } from '../../../src/broker/network/connection.js';
import {
  freeReadBuffers,
  holdsLeasedBuffer,
  keepLeasedBuffer,
  LEASED_MIN_BYTES,
  leaseReadBuffer,
  READ_BUFFER_BYTES,
  readBufferSettings,
  releaseReadBuffers,
  resetReadBuffers,
} from '../../../src/storage/read-buffers.js';

const MiB = 1024 * 1024;
const until = async (cond: () => boolean, ms = 10_000) => {
  for (const deadline = Date.now() + ms; !cond() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

/** Empties the free list (module state shared by the tests in this file). */
const drain = resetReadBuffers;

describe('read buffer pool', () => {
  beforeEach(drain);
  afterEach(() => {
    readBufferSettings.idleDropMs = 10_000;
    drain();
  });

  it('leases reads of LEASED_MIN_BYTES up to READ_BUFFER_BYTES only', () => {
    expect(holdsLeasedBuffer([leaseReadBuffer(LEASED_MIN_BYTES - 1)])).toBe(false);
    expect(holdsLeasedBuffer([leaseReadBuffer(READ_BUFFER_BYTES + 1)])).toBe(false);
    const small = leaseReadBuffer(LEASED_MIN_BYTES);
    const full = leaseReadBuffer(READ_BUFFER_BYTES);
    expect([small.length, full.length]).toEqual([LEASED_MIN_BYTES, READ_BUFFER_BYTES]);
    expect(holdsLeasedBuffer([Buffer.alloc(10), small.subarray(5, 10)])).toBe(true);
    expect(holdsLeasedBuffer([full])).toBe(true);
  });

  it('hands a given-back buffer out again, once, however many views of it were given back', () => {
    const a = leaseReadBuffer(MiB);
    const notBack = leaseReadBuffer(MiB);
    releaseReadBuffers([Buffer.alloc(8), a.subarray(0, 100), a.subarray(100)]);
    expect(freeReadBuffers()).toBe(1);
    expect(holdsLeasedBuffer([a])).toBe(false);
    const b = leaseReadBuffer(MiB - 1);
    expect(b.buffer).toBe(a.buffer);
    expect(holdsLeasedBuffer([b])).toBe(true);
    const c = leaseReadBuffer(MiB);
    expect(c.buffer).not.toBe(a.buffer);
    expect(c.buffer).not.toBe(notBack.buffer);
    // Given back again after its second lease: a stale view does not give it back twice.
    releaseReadBuffers([b]);
    releaseReadBuffers([a, b]);
    expect(freeReadBuffers()).toBe(1);
  });

  it('keeps at most four free buffers, and none once unused for a while', async () => {
    const leases = [1, 2, 3, 4, 5, 6].map(() => leaseReadBuffer(MiB));
    readBufferSettings.idleDropMs = 50;
    releaseReadBuffers(leases);
    expect(freeReadBuffers()).toBe(4);
    await until(() => freeReadBuffers() === 0);
  });
});

describe('a connection gives fetch reads back once written', () => {
  let close = () => {};
  beforeEach(drain);
  afterEach(() => {
    close();
    drain();
  });

  it('reuses no buffer a pending write holds, and reuses the written ones', async () => {
    const ANSWERS = 12;
    const used = new Set<ArrayBufferLike>();
    let calls = 0;
    const server = createServer((socket) => {
      const connection = new Connection(socket, {
        id: 1,
        maxFrameSize: 1 << 20,
        idleTimeoutMs: 0,
        log: createLogger({ level: 'silent' }),
        // A fetch-like answer: its "records" a leased 1 MiB read, filled with the request's id.
        async handleFrame(f) {
          calls++;
          const id = f.readInt32BE(4);
          const records = leaseReadBuffer(MiB).fill(id);
          used.add(records.buffer);
          const head = Buffer.alloc(8);
          head.writeInt32BE(4 + records.length, 0);
          head.writeInt32BE(id, 4);
          return [head, records];
        },
      });
      close = () => {
        client.destroy();
        connection.close();
        server.close();
      };
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client: Socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    // The client does not read at first: answers pile up in the kernel's buffers, then in the
    // socket's (the connection stops taking requests past its high-water mark).
    client.pause();
    const requests = Array.from({ length: ANSWERS }, (_, i) => {
      const b = Buffer.alloc(12);
      b.writeInt32BE(8, 0);
      b.writeInt16BE(1, 4);
      b.writeInt32BE(i + 1, 8);
      return b;
    });
    client.write(Buffer.concat(requests));
    await until(() => calls >= 2);
    let stalled = -1;
    for (; stalled !== calls; ) {
      stalled = calls;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(calls).toBeLessThan(ANSWERS); // writes are pending now
    // Every buffer leased so far is held by a write: each one was new.
    expect(used.size).toBe(calls);

    const received: Buffer[] = [];
    let pending = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        received.push(pending.subarray(4, 4 + pending.readInt32BE(0)));
        pending = pending.subarray(4 + pending.readInt32BE(0));
      }
    });
    client.resume();
    await until(() => received.length === ANSWERS);
    received.forEach((frame, i) => {
      expect(frame.readInt32BE(0)).toBe(i + 1);
      const records = frame.subarray(4);
      expect(records.length).toBe(MiB);
      // Not overwritten by a later answer's read: every byte is its own id.
      expect(records.every((byte) => byte === i + 1)).toBe(true);
    });
    // Once written they came back and were leased again: fewer buffers than answers.
    expect(used.size).toBeLessThan(ANSWERS);
    await until(() => freeReadBuffers() > 0);
  });
});

describe('a connection reads Produce frames into pooled buffers and gives them back once answered', () => {
  let close = () => {};
  beforeEach(drain);
  afterEach(() => {
    close();
    drain();
  });

  it('reuses no frame a request in flight or a keeper still holds, and reuses the answered ones', async () => {
    const FRAMES = 16;
    const SIZE = 600_000; // two fit in the connection's in-flight allowance, so requests overlap
    const started: Buffer[] = [];
    const kept: Buffer[] = [];
    const intact: boolean[] = [];
    const server = createServer((socket) => {
      const connection = new Connection(socket, {
        id: 1,
        maxFrameSize: 1 << 20,
        idleTimeoutMs: 0,
        log: createLogger({ level: 'silent' }),
        // A produce-like request: it holds its frame until the next one has started (the log write
        // of one overlapping the next one's arrival), then checks that its bytes are still its own.
        async handleFrame(f) {
          const id = f[2];
          started.push(f);
          if (id === 1) {
            keepLeasedBuffer(f); // as the recent-batches cache does with a batch it keeps
            kept.push(f);
          }
          if (id < FRAMES) await until(() => started.length > id, 10_000);
          intact[id] = f.subarray(2).every((byte) => byte === id);
          return [Buffer.from([0, 0, 0, 1, id])];
        },
      });
      close = () => {
        client.destroy();
        connection.close();
        server.close();
      };
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client: Socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    let answers = 0;
    client.on('data', (d: Buffer) => (answers += d.length / 5));
    for (let id = 1; id <= FRAMES; id++) {
      const frame = Buffer.alloc(4 + SIZE, id);
      frame.writeInt32BE(SIZE, 0);
      frame.writeInt16BE(0, 4); // Produce
      client.write(frame);
    }
    await until(() => answers === FRAMES);
    expect(started.length).toBe(FRAMES);
    expect(holdsLeasedBuffer(started)).toBe(false); // read into leased buffers, all given back or kept
    expect(started.every((f) => f.buffer.byteLength === READ_BUFFER_BYTES)).toBe(true);
    expect(intact.slice(1)).toEqual(Array(FRAMES).fill(true));
    // The kept frame was never handed out again.
    expect(kept[0].subarray(2).every((byte) => byte === 1)).toBe(true);
    expect(started.filter((f) => f.buffer === kept[0].buffer)).toHaveLength(1);
    // The answered ones were: fewer buffers than frames (how many fewer depends on how the reads
    // and the answers interleave).
    expect(new Set(started.map((f) => f.buffer)).size).toBeLessThan(FRAMES);
  });
});
