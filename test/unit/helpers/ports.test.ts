// freePort() hands out ports no outgoing connection can take. A port from the kernel's ephemeral
// range (what listen(0) gives) can become some client's local port before the broker binds it, or
// while a broker is down for a restart on the same port, and the bind then fails with EADDRINUSE.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ephemeralPortRange, freePort, portReservations } from '../../helpers/broker.js';

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

  it('reserves each port across processes: a port another live process reserved is not handed out, a dead one\'s is taken over', async () => {
    // Each test file runs in a process of its own and suites may run side by side: without this a
    // file could pick the port of another file's broker that is down for a restart on it.
    const mine = await freePort();
    expect(readFileSync(join(portReservations.dir, String(mine)), 'utf8')).toBe(String(process.pid));
    expect(portReservations.reserve(mine)).toBe(false);

    // Names no real port (over 65535) and no other process's (made of this pid), so a suite running
    // beside this one is not disturbed.
    const [held, stale] = [70_000 + 2 * process.pid, 70_001 + 2 * process.pid];
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
    try {
      writeFileSync(join(portReservations.dir, String(held)), '1'); // pid 1 lives as long as the machine
      expect(portReservations.reserve(held)).toBe(false);
      writeFileSync(join(portReservations.dir, String(stale)), String(deadPid));
      expect(portReservations.reserve(stale)).toBe(true);
      expect(readFileSync(join(portReservations.dir, String(stale)), 'utf8')).toBe(String(process.pid));
      // A reservation given back (freePortRun's attempts that found part of a run taken) is free for others.
      portReservations.release(stale);
      expect(existsSync(join(portReservations.dir, String(stale)))).toBe(false);
    } finally {
      rmSync(join(portReservations.dir, String(held)), { force: true });
    }
  });
});
