// A client that connects while the broker is still starting (listening, but the topic registry and
// group coordinator not open yet) is answered once the broker is ready, not left hanging: such
// connections used to be accepted with no handler and never read.
import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerHandle } from '../../../src/broker/index.js';
import { encodeRequest } from '../../../src/protocol/index.js';
import { freePort, tempDir } from '../../helpers/broker.js';

/** Connects as soon as the port accepts; resolves with the socket and when it connected. */
async function connectEarly(port: number, deadline: number): Promise<Socket> {
  for (;;) {
    const socket = await new Promise<Socket | null>((resolve) => {
      const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
      s.once('error', () => resolve(null));
    });
    if (socket) return socket;
    if (Date.now() > deadline) throw new Error('the broker never accepted a connection');
    await new Promise((r) => setImmediate(r));
  }
}

/** Sends ApiVersions v0 and resolves with its error code, or null if nothing came within timeoutMs. */
function apiVersions(socket: Socket, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => resolve(null), timeoutMs);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        clearTimeout(timer);
        resolve(buf.readInt16BE(8));
      }
    });
    for (const chunk of encodeRequest(18, 0, 1, 'early', {})) socket.write(chunk);
  });
}

describe('connections during start-up', () => {
  let broker: BrokerHandle | undefined;
  afterAll(async () => {
    await broker?.close();
  });

  it('a connection accepted before the broker is ready gets its answer', async () => {
    const port = await freePort();
    const starting = startBroker({ dataDir: tempDir('kts-early-'), host: '127.0.0.1', port, logLevel: 'warn' });
    const socket = await connectEarly(port, Date.now() + 20_000);
    const ready = await Promise.race([starting.then(() => true), new Promise<false>((r) => setImmediate(() => r(false)))]);
    const errorCode = await apiVersions(socket, 10_000);
    broker = await starting;
    socket.destroy();
    expect(errorCode).toBe(0);
    // Informational: whether this run's connection really landed before the handlers existed.
    console.log(`early connection accepted ${ready ? 'after' : 'before'} the broker was ready; answered`);
  });
});
