// (2) A member killed with SIGKILL: its partitions move to the others once its session times out
// (no LeaveGroup is ever sent), and every record is consumed.
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';
import { createTopic, connectClients, produceEach, startTestBroker, waitFor, type TestBroker } from './support.js';

const MEMBER = resolve(import.meta.dirname, 'fixtures/kafkajs-member.mjs');
const SESSION_TIMEOUT_MS = 6000;

interface Member {
  name: string;
  child: ChildProcess;
  assigned: number[];
  records: { partition: number; offset: number }[];
  log: string;
}

function startMember(bootstrap: string, group: string, topic: string, name: string): Member {
  const child = spawnTracked(process.execPath, [MEMBER, bootstrap, group, topic, name], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m: Member = { name, child, assigned: [], records: [], log: '' };
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const e = JSON.parse(line);
        if (e.event === 'assigned') m.assigned = [...e.partitions].sort((a: number, b: number) => a - b);
        else if (e.event === 'record') m.records.push({ partition: e.partition, offset: e.offset });
        else m.log += `${line}\n`;
      } catch {
        m.log += `${line}\n`;
      }
    }
  });
  child.stderr!.on('data', (d) => (m.log += d));
  return m;
}

describe('a group member killed with SIGKILL', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const members: Member[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    ({ kafka, admin, producer } = await connectClients(broker.bootstrap));
  });
  afterAll(async () => {
    await Promise.all(members.map((m) => stopProcess(m.child, 'SIGKILL')));
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.stop();
  });

  it('moves its partitions to the survivors after the session timeout; nothing is lost', async () => {
    const topic = 'failover';
    const group = 'failover-group';
    await createTopic(admin, topic, 6);
    await produceEach(producer, topic, 6, 50, 'a-');
    for (const name of ['m1', 'm2', 'm3']) members.push(startMember(broker.bootstrap, group, topic, name));
    await waitFor('a three-way split', () => members.every((m) => m.assigned.length === 2) && new Set(members.flatMap((m) => m.assigned)).size === 6, 60_000);
    await waitFor('the first 300 records', () => new Set(members.flatMap((m) => m.records.map((r) => `${r.partition}:${r.offset}`))).size >= 300, 30_000);

    const [victim, ...survivors] = members;
    const orphaned = [...victim.assigned];
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await produceEach(producer, topic, 6, 50, 'b-');

    await waitFor(
      `survivors to take over partitions ${orphaned.join(',')}`,
      () => new Set(survivors.flatMap((m) => m.assigned)).size === 6,
      SESSION_TIMEOUT_MS + 20_000,
    );
    const movedAfter = Date.now() - killedAt;
    await waitFor('all 600 records', () => new Set(members.flatMap((m) => m.records.map((r) => `${r.partition}:${r.offset}`))).size === 600, 30_000);

    const consumed = members.flatMap((m) => m.records);
    const distinct = new Set(consumed.map((r) => `${r.partition}:${r.offset}`));
    for (let p = 0; p < 6; p++) for (let o = 0; o < 100; o++) expect(distinct.has(`${p}:${o}`)).toBe(true);
    // The coordinator waited for the session to run out: not before it, and not much after.
    expect(movedAfter).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - 1000);
    expect(movedAfter).toBeLessThan(SESSION_TIMEOUT_MS + 15_000);
    const d = await admin.describeGroups([group]);
    expect(d.groups[0].members).toHaveLength(2);
    console.log(
      `[groups] sigkill: partitions ${orphaned.join(',')} moved ${movedAfter} ms after the kill (session ${SESSION_TIMEOUT_MS} ms); ` +
        `${distinct.size}/600 records consumed, ${consumed.length - distinct.size} redelivered (uncommitted at the kill)`,
    );
  });
});
