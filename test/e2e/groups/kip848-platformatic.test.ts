// KIP-848 consumer groups from @platformatic/kafka (groupProtocol 'consumer'): two members split
// four partitions and each reads the records of its own, commit with their member id and epoch, a member killed with SIGKILL has its
// partitions reassigned after the session timeout, and committed offsets survive a broker restart.
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';
import { committedOffsets, describeConsumerGroup } from './kip848-support.js';
import { connectClients, createTopic, produceEach, waitFor } from './support.js';

const MEMBER = resolve(import.meta.dirname, 'fixtures/platformatic-member.mjs');
const SESSION_TIMEOUT_MS = 6000;
const OVERRIDES = {
  'group.consumer.session.timeout.ms': String(SESSION_TIMEOUT_MS),
  'group.consumer.min.session.timeout.ms': '1000',
  'group.consumer.heartbeat.interval.ms': '500',
  'group.consumer.min.heartbeat.interval.ms': '100',
  'offsets.topic.num.partitions': '5',
};

interface PlatformaticMember {
  child: ChildProcess;
  assigned: number[];
  events: { event: string; partitions?: number[]; message?: string }[];
  records: { partition: number; offset: number; value: string }[];
  log: string;
}

function startMember(bootstrap: string, group: string, topic: string): PlatformaticMember {
  const child = spawnTracked(process.execPath, [MEMBER, bootstrap, group, topic], { stdio: ['pipe', 'pipe', 'pipe'] });
  const m: PlatformaticMember = { child, assigned: [], events: [], records: [], log: '' };
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const e = JSON.parse(line);
        if (e.event === 'assigned') m.assigned = e.partitions;
        else if (e.event === 'record') m.records.push(e);
        else m.events.push(e);
      } catch {
        m.log += `${line}\n`;
      }
    }
  });
  child.stderr!.on('data', (d) => (m.log += d));
  child.stdin!.on('error', () => {});
  return m;
}

async function commit(m: PlatformaticMember, offset: number): Promise<void> {
  const before = m.events.length;
  m.child.stdin!.write(`commit ${offset}\n`);
  const e = await waitFor('the commit to be answered', () => m.events.slice(before).find((x) => x.event === 'committed' || x.event === 'commit-error'), 30_000);
  expect(e, m.log).toEqual({ event: 'committed', partitions: m.assigned });
}

describe('KIP-848 consumer groups: @platformatic/kafka with groupProtocol consumer', () => {
  let broker: SpawnedBroker;
  let dataDir: string;
  const members: PlatformaticMember[] = [];

  beforeAll(async () => {
    dataDir = tempDir('kts-kip848-plt-');
    broker = await spawnBroker({ dataDir, overrides: OVERRIDES });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(members.map((m) => stopProcess(m.child, 'SIGKILL')));
    await broker?.stop();
  }, 60_000);

  it('splits four partitions, reassigns a killed member\'s, and keeps committed offsets over a restart', async () => {
    const topic = 'plt-kip848';
    const group = 'plt-kip848-group';
    const { admin, producer } = await connectClients(broker.bootstrap);
    await createTopic(admin, topic, 4);

    const a = startMember(broker.bootstrap, group, topic);
    members.push(a);
    await waitFor('the first member to own all four partitions', () => a.assigned.length === 4, 60_000);
    const b = startMember(broker.bootstrap, group, topic);
    members.push(b);
    await waitFor('a two-two split', () => a.assigned.length === 2 && b.assigned.length === 2 && new Set([...a.assigned, ...b.assigned]).size === 4, 60_000);
    const described = await describeConsumerGroup(broker.port, group);
    expect(described.groupState).toBe('Stable');
    expect(described.assignorName).toBe('uniform');

    // Each member reads the records of its own partitions (Fetch v13+ by topic id).
    await produceEach(producer, topic, 4, 5, 'p-');
    await admin.disconnect();
    await producer.disconnect();
    await waitFor('all 20 records', () => a.records.length + b.records.length >= 20, 60_000);
    expect([...a.records, ...b.records].map((r) => r.value).sort()).toEqual(Array.from({ length: 4 }, (_, p) => Array.from({ length: 5 }, (_, i) => `p-p${p}-${i}`)).flat().sort());
    for (const m of [a, b]) expect(new Set(m.records.map((r) => r.partition))).toEqual(new Set(m.assigned));

    // OffsetCommit v9 with member id and epoch.
    await commit(a, 5);
    const afterA = await committedOffsets(broker.port, group, topic, 4);
    for (const p of a.assigned) expect(afterA.get(p)).toBe(5);

    await stopProcess(b.child, 'SIGKILL');
    const killedAt = Date.now();
    await waitFor('the survivor to own all four partitions', () => a.assigned.length === 4, 60_000);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - 1000);
    await commit(a, 7);

    const aMemberId = (await describeConsumerGroup(broker.port, group)).members[0].memberId;
    await stopProcess(a.child, 'SIGKILL');
    const port = broker.port;
    await broker.stop();
    broker = await spawnBroker({ dataDir, port, overrides: OVERRIDES });
    // The group itself came back (members, epochs, assignments, as Kafka 4.4 keeps them): the
    // member killed just before the restart is still in it until its session runs out.
    const restored = await describeConsumerGroup(broker.port, group);
    expect(restored.members.map((m) => m.memberId)).toEqual([aMemberId]);
    expect([...(await committedOffsets(broker.port, group, topic, 4)).values()]).toEqual([7, 7, 7, 7]);
    const c = startMember(broker.bootstrap, group, topic);
    members.push(c);
    await waitFor('a new member to own all four partitions', () => c.assigned.length === 4, 60_000);
    await commit(c, 9);
    expect([...(await committedOffsets(broker.port, group, topic, 4)).values()]).toEqual([9, 9, 9, 9]);
  }, 240_000);
});
