// freePort() hands out ports no outgoing connection can take. A port from the kernel's ephemeral
// range (what listen(0) gives) can become some client's local port before the broker binds it, or
// while a broker is down for a restart on the same port, and the bind then fails with EADDRINUSE.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralPortRange, freePort } from '../../helpers/broker.js';

const listen = (port: number) =>
  new Promise<net.Server>((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(port, '127.0.0.1', () => res(s));
  });

describe('test helpers: freePort', () => {
  it('a listener cannot bind a port that a client holds as its local port (why freePort avoids that range)', async () => {
    const server = await listen(0);
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    await expect(listen(client.localPort!)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(client.localPort!).toBeGreaterThanOrEqual(ephemeralPortRange());
    client.destroy();
    await new Promise((r) => server.close(r));
  });

  it('hands out distinct ports below the ephemeral range, each of which can be listened on', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeLessThan(ephemeralPortRange());
      const s = await listen(port);
      await new Promise((r) => s.close(r));
    }
  });
});
