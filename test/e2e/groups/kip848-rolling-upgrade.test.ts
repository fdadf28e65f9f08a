// A rolling upgrade of a live group from the classic protocol to KIP-848 and back, with real
// clients: two kafkajs members (classic) consume and commit; one is replaced by @platformatic/kafka
// with groupProtocol 'consumer', which upgrades the group online (the kafkajs member keeps
// working inside the consumer group through JoinGroup/SyncGroup/Heartbeat); then the KIP-848
// member leaves and the group downgrades to a classic group, and the second kafkajs member comes
// back. Throughout, ConsumerGroupDescribe is polled: no partition is ever assigned to two members,
// and none stays unassigned for long. Committed offsets carry over each way (no member re-reads
// what another committed), and `kts consumer-groups` lists and describes the group as Kafka 4.4's
// kafka-consumer-groups.sh does against the same broker, at each stage.
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, runKafkaTool } from '../../helpers/real-kafka.js';
import { committedOffsets } from './kip848-support.js';
import { connectClients, consumerGroups, createTopic, produceEach, startTestBroker, waitFor, type TestBroker } from './support.js';

const KAFKAJS = resolve(import.meta.dirname, 'fixtures/kafkajs-member.mjs');
const PLATFORMATIC = resolve(import.meta.dirname, 'fixtures/platformatic-member.mjs');
const TOPIC = 'rolling';
const GROUP = 'rolling-group';
const lib = kafkaLib(KAFKA_4);

interface Member {
  name: string;
  child: ChildProcess;
  assigned: number[];
  records: { partition: number; offset: number }[];
  events: { event: string; message?: string }[];
  log: string;
}

function startMember(name: string, program: string, args: string[]): Member {
  const child = spawnTracked(process.execPath, [program, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const m: Member = { name, child, assigned: [], records: [], events: [], log: '' };
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

/** Polls the group through ListGroups and ConsumerGroupDescribe, remembering what it saw. */
class GroupWatch {
  readonly doubleOwned: string[] = [];
  /** Since when (ms) a partition of the topic has been owned by nobody in a consumer group; null when all are owned. */
  private unownedSince: number | null = null;
  longestUnownedMs = 0;
  types: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly client: RawClient,
    private readonly partitions: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), 100);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const listed = (await this.client.request(16, 5, { statesFilter: [], typesFilter: [] })).groups.find((g: { groupId: string }) => g.groupId === GROUP);
      const type = listed?.groupType ?? 'none';
      if (this.types.at(-1) !== type) this.types.push(type);
      if (type !== 'consumer') {
        this.unownedSince = null;
        return;
      }
      const described = (await this.client.request(69, 1, { groupIds: [GROUP], includeAuthorizedOperations: false })).groups[0];
      if (described.errorCode !== 0) return;
      const owner = new Map<number, string>();
      for (const m of described.members as { memberId: string; assignment: { topicPartitions: { partitions: number[] }[] } }[]) {
        for (const p of m.assignment.topicPartitions.flatMap((t) => t.partitions)) {
          const other = owner.get(p);
          if (other !== undefined) this.doubleOwned.push(`partition ${p}: ${other} and ${m.memberId} (epoch ${described.groupEpoch})`);
          owner.set(p, m.memberId);
        }
      }
      const now = Date.now();
      if (owner.size < this.partitions) {
        this.unownedSince ??= now;
        this.longestUnownedMs = Math.max(this.longestUnownedMs, now - this.unownedSince);
      } else {
        this.unownedSince = null;
      }
    } catch {
      // A poll during shutdown: the next one tells.
    } finally {
      this.busy = false;
    }
  }
}

describe.skipIf(!lib)('a rolling upgrade from kafkajs (classic) to @platformatic/kafka (KIP-848) and back', () => {
  let broker: TestBroker;
  let admin: Admin;
  let producer: Producer;
  let raw: RawClient;
  const members: Member[] = [];

  beforeAll(async () => {
    broker = await startTestBroker({
      overrides: {
        'group.consumer.session.timeout.ms': '10000',
        'group.consumer.min.session.timeout.ms': '1000',
        'group.consumer.heartbeat.interval.ms': '500',
        'group.consumer.min.heartbeat.interval.ms': '100',
        'offsets.topic.num.partitions': '3',
      },
    });
    ({ admin, producer } = await connectClients(broker.bootstrap));
    await createTopic(admin, TOPIC, 4);
    raw = await RawClient.connect(broker.port);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(members.map((m) => stopProcess(m.child, 'SIGKILL')));
    raw?.close();
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.stop();
  }, 60_000);

  /** Both tools against the kts broker; kts's output must be Kafka 4.4's. */
  async function sameAsKafka(args: string[]): Promise<string> {
    const full = ['--bootstrap-server', broker.bootstrap, ...args];
    const kafka = await runKafkaTool(KAFKA_4, 'consumer-groups', full);
    const kts = await consumerGroups(full);
    expect({ code: kts.code, stdout: kts.stdout, stderr: kts.stderr }).toEqual({ code: kafka.code, stdout: kafka.stdout, stderr: kafka.stderr });
    return kts.stdout;
  }
  const typeOf = async () => (await raw.request(16, 5, { statesFilter: [], typesFilter: [] })).groups.find((g: { groupId: string }) => g.groupId === GROUP)?.groupType;
  const readsOf = (ms: Member[], partitions: number[], from: number) => ms.flatMap((m) => m.records).filter((r) => partitions.includes(r.partition) && r.offset >= from);

  it('upgrades online when a KIP-848 member replaces a classic one, and downgrades when it leaves', async () => {
    const kafkajs = (name: string) => startMember(name, KAFKAJS, [broker.bootstrap, GROUP, TOPIC, name]);
    await produceEach(producer, TOPIC, 4, 10, 'a-');

    // Classic: two kafkajs members split the partitions and commit everything (offset 10 each).
    const k1 = kafkajs('k1');
    const k2 = kafkajs('k2');
    members.push(k1, k2);
    await waitFor('a 2-2 classic split', () => k1.assigned.length === 2 && k2.assigned.length === 2, 60_000);
    await waitFor('the first 40 records committed', async () => [...(await committedOffsets(broker.port, GROUP, TOPIC, 4)).values()].join() === '10,10,10,10', 60_000);
    expect(await typeOf()).toBe('classic');
    expect(await sameAsKafka(['--list', '--type'])).toContain('Classic');

    // k2 leaves; a KIP-848 member takes its place: the group becomes a consumer group at once.
    await stopProcess(k2.child, 'SIGTERM');
    await waitFor('k1 to own everything', () => k1.assigned.length === 4, 60_000);
    const watch = new GroupWatch(raw, 4);
    watch.start();
    const upgradeAt = Date.now();
    const p = startMember('plt', PLATFORMATIC, [broker.bootstrap, GROUP, TOPIC, 'committed']);
    members.push(p);
    await waitFor('a 2-2 split of kafkajs and platformatic', () => k1.assigned.length === 2 && p.assigned.length === 2 && new Set([...k1.assigned, ...p.assigned]).size === 4, 60_000);
    const upgradeMs = Date.now() - upgradeAt;
    expect(await typeOf()).toBe('consumer');
    const described = (await raw.request(69, 1, { groupIds: [GROUP], includeAuthorizedOperations: false })).groups[0];
    // KIP-1099's member types: the kafkajs member is a classic member inside the consumer group.
    expect(described.members.map((m: { memberType: number; clientId: string }) => [m.clientId, m.memberType]).sort()).toEqual([
      ['k1', 0],
      ['platformatic-member', 1],
    ]);
    expect(await sameAsKafka(['--list', '--type'])).toContain('Consumer');
    await sameAsKafka(['--describe', '--group', GROUP, '--members']);

    // Offsets carried over: the platformatic member starts where kafkajs committed.
    await produceEach(producer, TOPIC, 4, 10, 'b-');
    await waitFor('the next 40 records read', () => readsOf([k1, p], [0, 1, 2, 3], 10).length >= 40, 60_000);
    expect(p.records.filter((r) => r.offset < 10)).toEqual([]);
    expect(new Set(p.records.map((r) => r.partition))).toEqual(new Set(p.assigned));
    p.child.stdin!.write('commit 20\n');
    await waitFor('the platformatic commit', () => p.events.find((e) => e.event === 'committed' || e.event === 'commit-error'), 30_000);
    expect(p.events.find((e) => e.event === 'commit-error')).toBeUndefined();
    await waitFor('every offset at 20', async () => [...(await committedOffsets(broker.port, GROUP, TOPIC, 4)).values()].join() === '20,20,20,20', 60_000);

    // The KIP-848 member leaves: only a classic member remains and the group downgrades.
    const pPartitions = p.assigned;
    const downgradeAt = Date.now();
    await stopProcess(p.child, 'SIGTERM');
    // Waited for through the watch itself: the downgrade can take less than its 100 ms poll (79 ms in a
    // full run), and a watch stopped before its next poll never recorded the classic group again.
    await waitFor('the group to be classic again, as the watch sees it', () => watch.types.at(-1) === 'classic', 30_000);
    await waitFor('k1 to own everything again', () => k1.assigned.length === 4, 60_000);
    const downgradeMs = Date.now() - downgradeAt;
    watch.stop();
    expect(await sameAsKafka(['--list', '--type'])).toContain('Classic');
    await sameAsKafka(['--describe', '--group', GROUP, '--members']);
    await produceEach(producer, TOPIC, 4, 10, 'c-');
    await waitFor('the last 40 records read', () => readsOf([k1], [0, 1, 2, 3], 20).length >= 40, 60_000);
    // The partitions the platformatic member had resume at its commit.
    expect(k1.records.filter((r) => pPartitions.includes(r.partition) && r.offset >= 10 && r.offset < 20)).toEqual([]);

    // The second kafkajs member comes back: a classic 2-2 split again.
    const k3 = kafkajs('k3');
    members.push(k3);
    await waitFor('a 2-2 classic split again', () => k1.assigned.length === 2 && k3.assigned.length === 2 && new Set([...k1.assigned, ...k3.assigned]).size === 4, 60_000);
    await waitFor('every offset at 30', async () => [...(await committedOffsets(broker.port, GROUP, TOPIC, 4)).values()].join() === '30,30,30,30', 60_000);
    expect(await typeOf()).toBe('classic');

    console.log(
      `rolling upgrade: group types seen ${watch.types.join(' -> ')}; upgrade to a 2-2 split in ${upgradeMs} ms, downgrade to k1 owning all in ${downgradeMs} ms; ` +
        `longest time a partition was unassigned in the consumer group: ${watch.longestUnownedMs} ms`,
    );
    expect(watch.doubleOwned).toEqual([]);
    expect(watch.types).toEqual(['classic', 'consumer', 'classic']);
    expect(watch.longestUnownedMs).toBeLessThan(15_000);
  }, 300_000);
});
