// `kts consumer-groups` against a live broker: Kafka's exact plain text for --list, --describe
// --state, --delete and --delete-offsets, reset scenarios with clamping, export/from-file round
// trip, JSON output, exit codes (usage 1; everything else 0, as Kafka), and kts's --describe --watch.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { KTS_BIN, tempDir } from '../../helpers/broker.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';
import { consumerGroups, createTopic, connectClients, produceEach, startTestBroker, trackedConsumer, waitFor, type TestBroker, type TrackedConsumer } from './support.js';

describe('kts consumer-groups', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let live: TrackedConsumer;
  const cg = (...args: string[]) => consumerGroups(['--bootstrap-server', broker.bootstrap, ...args]);
  const commit = (groupId: string, partitions: [number, number][]) =>
    admin.setOffsets({ groupId, topic: 'cli', partitions: partitions.map(([partition, offset]) => ({ partition, offset: String(offset) })) });

  beforeAll(async () => {
    broker = await startTestBroker();
    ({ kafka, admin, producer } = await connectClients(broker.bootstrap));
    await createTopic(admin, 'cli', 2);
    await createTopic(admin, 'other', 1);
    await produceEach(producer, 'cli', 2, 20);
    await commit('idle-a', [[0, 4], [1, 20]]);
    await commit('idle-b', [[0, 1]]);
    live = await trackedConsumer(kafka, 'live', 'live-group', 'cli');
    await waitFor('live member consuming', () => live.records.length >= 40);
    await waitFor('idle groups empty', async () => {
      const d = await admin.describeGroups(['idle-a', 'idle-b']);
      return d.groups.every((g) => g.state === 'Empty');
    }, 60_000, 250);
  }, 120_000);
  afterAll(async () => {
    await live?.consumer.disconnect();
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.stop();
  });

  it('--list, --list --state, --list --state with a filter, --type', async () => {
    const plain = await cg('--list');
    expect(plain.code).toBe(0);
    expect(plain.stdout.split('\n').filter(Boolean).sort()).toEqual(['idle-a', 'idle-b', 'live-group']);
    const withState = await cg('--list', '--state');
    const lines = withState.stdout.split('\n');
    expect(lines[0]).toBe(`${'GROUP'.padEnd(25)} ${'STATE'.padEnd(20)}`);
    expect(lines.slice(1).filter(Boolean).sort()).toEqual([
      `${'idle-a'.padEnd(25)} ${'Empty'.padEnd(20)}`,
      `${'idle-b'.padEnd(25)} ${'Empty'.padEnd(20)}`,
      `${'live-group'.padEnd(25)} ${'Stable'.padEnd(20)}`,
    ]);
    const stable = await cg('--list', '--state', 'stable');
    expect(stable.stdout).toBe(`${'GROUP'.padEnd(25)} ${'STATE'.padEnd(20)}\n${'live-group'.padEnd(25)} ${'Stable'.padEnd(20)}\n`);
    const typed = await cg('--list', '--type', 'classic', '--state', 'empty');
    expect(typed.stdout.split('\n')[0]).toBe(`${'GROUP'.padEnd(25)} ${'TYPE'.padEnd(20)} ${'STATE'.padEnd(20)}`);
    expect(typed.stdout).toContain(`${'idle-a'.padEnd(25)} ${'Classic'.padEnd(20)} ${'Empty'.padEnd(20)}\n`);
    const bad = await cg('--list', '--state', 'sleepy');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Invalid state list 'sleepy'.");
  });

  it('--describe --state, unknown groups, and usage errors', async () => {
    const s = await cg('--describe', '--group', 'live-group', '--state');
    const coordinator = `${broker.bootstrap}  (0)`;
    const w = Math.max(25, coordinator.length);
    expect(s.stdout).toBe(
      `\n${'GROUP'.padEnd(w)} ${'COORDINATOR (ID)'.padEnd(25)} ${'ASSIGNMENT-STRATEGY'.padEnd(20)} ${'STATE'.padEnd(15)} #MEMBERS\n` +
        `${'live-group'.padEnd(w)} ${coordinator.padEnd(25)} ${'RoundRobinAssigner'.padEnd(20)} ${'Stable'.padEnd(15)} 1\n`,
    );
    const missing = await cg('--describe', '--group', 'ghost');
    expect(missing).toMatchObject({ code: 0, stdout: "\nError: Consumer group 'ghost' does not exist.\n" });
    const strict = await cg('--describe', '--group', 'ghost', '--strict');
    expect(strict.code).toBe(1);
    const usage = await cg('--describe');
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('Option [describe] takes one of these options: [group], [all-groups]');
    const all = await cg('--describe', '--all-groups');
    expect(all.stdout.match(/\nGROUP /g)).toHaveLength(3);
    expect(all.stderr).toContain("\nConsumer group 'idle-a' has no active members.");
  });

  it('reset scenarios: clamping with a WARN, shift-by, to-current, export and from-file', async () => {
    const toOffset = await cg('--reset-offsets', '--group', 'idle-a', '--topic', 'cli', '--to-offset', '50', '--dry-run');
    expect(toOffset.stderr).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] WARN New offset \(50\) is higher than latest offset for topic partition cli-0\. Value will be set to 20 \(org\.apache\.kafka\.tools\.consumer\.group\.ConsumerGroupCommand\)$/m);
    expect(toOffset.stdout).toContain(`${'idle-a'.padEnd(30)} ${'cli'.padEnd(30)} ${'0'.padEnd(10)} ${'20'.padEnd(15)}\n`);
    const shifted = await cg('--reset-offsets', '--group', 'idle-a', '--all-topics', '--shift-by', '-10', '--export', '--dry-run');
    expect(shifted.stdout).toBe('cli,0,0\ncli,1,10\n\n');
    const noCommit = await cg('--reset-offsets', '--group', 'idle-b', '--topic', 'cli', '--shift-by', '1', '--dry-run');
    expect(noCommit.code).toBe(1);
    expect(noCommit.stderr).toContain('Cannot shift offset for partition cli-1 since there is no current committed offset');
    const current = await cg('--reset-offsets', '--group', 'idle-b', '--topic', 'cli', '--to-current', '--export', '--dry-run');
    expect(current.stdout).toBe('cli,0,1\ncli,1,20\n\n');
    const both = await cg('--reset-offsets', '--group', 'idle-a', '--group', 'idle-b', '--topic', 'cli:0', '--to-latest', '--export', '--dry-run');
    expect(both.stdout.split('\n').filter(Boolean).sort()).toEqual(['idle-a,cli,0,20', 'idle-b,cli,0,20']);

    const plan = join(tempDir('kts-plan-'), 'plan.csv');
    writeFileSync(plan, 'cli,0,7\ncli,1,8\n');
    const fromFile = await cg('--reset-offsets', '--group', 'idle-a', '--from-file', plan, '--execute');
    expect(fromFile.code).toBe(0);
    const [t] = await admin.fetchOffsets({ groupId: 'idle-a', topics: ['cli'] });
    expect(t.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset)).toEqual(['7', '8']);
    const json = await cg('--reset-offsets', '--group', 'idle-a', '--topic', 'cli', '--by-duration', 'PT1H', '--dry-run', '--output', 'json');
    expect(JSON.parse(json.stdout)).toEqual({
      groups: [{ group: 'idle-a', executed: false, offsets: [{ topic: 'cli', partition: 0, offset: 0 }, { topic: 'cli', partition: 1, offset: 0 }] }],
    });
  });

  it('--delete-offsets and --delete print what Kafka prints', async () => {
    const refused = await cg('--delete-offsets', '--group', 'live-group', '--topic', 'cli:0');
    expect(refused.stdout).toBe(
      '\nError: Encounter some partition level error, see the follow-up details:\n' +
        `\n${'TOPIC'.padEnd(30)} ${'PARTITION'.padEnd(15)} ${'STATUS'.padEnd(15)}` +
        `\n${'cli'.padEnd(30)} ${'0'.padEnd(15)} Error: :org.apache.kafka.common.errors.GroupSubscribedToTopicException: Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.\n`,
    );
    const ok = await cg('--delete-offsets', '--group', 'idle-a', '--topic', 'cli:1', '--topic', 'nosuch');
    expect(ok.stdout).toBe(
      'Request succeed for deleting offsets with topic cli:1, nosuch group idle-a\n' +
        `\n${'TOPIC'.padEnd(30)} ${'PARTITION'.padEnd(15)} ${'STATUS'.padEnd(15)}` +
        `\n${'cli'.padEnd(30)} ${'1'.padEnd(15)} ${'Successful'.padEnd(15)}` +
        `\n${'nosuch'.padEnd(30)} ${'Not Provided'.padEnd(15)} Error: :org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.\n`,
    );
    const del = await cg('--delete', '--group', 'idle-b', '--group', 'live-group');
    expect(del).toMatchObject({ code: 0 });
    expect(del.stdout).toBe(
      '\nError: Deletion of some consumer groups failed:\n' +
        "* Group 'live-group' could not be deleted due to: java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.\n" +
        "\nThese consumer groups were deleted successfully: 'idle-b'\n",
    );
    const delOk = await cg('--delete', '--group', 'idle-a');
    expect(delOk.stdout).toBe("Deletion of requested consumer groups ('idle-a') was successful.\n");
    expect((await cg('--list')).stdout).toBe('live-group\n');
  });

  it('--output json for --describe and --list', async () => {
    const d = JSON.parse((await cg('--describe', '--group', 'live-group', '--output', 'json')).stdout);
    expect(d.groups[0]).toMatchObject({ group: 'live-group', state: 'Stable' });
    expect(d.groups[0].offsets.map((o: { partition: number; logEndOffset: number }) => [o.partition, o.logEndOffset])).toEqual([
      [0, 20],
      [1, 20],
    ]);
    const l = JSON.parse((await cg('--list', '--output', 'json')).stdout);
    expect(l).toEqual({ groups: [{ group: 'live-group', state: 'Stable', type: 'classic' }] });
  });

  it('--describe --watch: a block per tick with CONSUME-RATE and TIME-TO-ZERO-LAG, JSONL, SIGINT 0 and SIGTERM 143', async () => {
    await createTopic(admin, 'watched', 2);
    await produceEach(producer, 'watched', 2, 50);
    const watcher = await trackedConsumer(kafka, 'watcher', 'watch-group', 'watched');
    await waitFor('watch-group consuming', () => watcher.records.length >= 100);
    let producing = true;
    const producing$ = (async () => {
      for (let i = 0; producing; i++) {
        await produceEach(producer, 'watched', 2, 5, `w${i}-`);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // Runs the built binary with stdout piped; resolves when `ready(stdout)` holds.
    const watch = async (extra: string[], ready: (stdout: string) => boolean) => {
      const child = spawnTracked(process.execPath, [KTS_BIN, 'consumer-groups', '--bootstrap-server', broker.bootstrap, '--describe', '--group', 'watch-group', '--watch', '0.5', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      // 'close', not 'exit': what it printed last may still be in the pipe at 'exit'.
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      try {
        await waitFor('watch output', () => ready(stdout), 30_000, 50);
      } catch (err) {
        await stopProcess(child, 'SIGKILL');
        throw new Error(`${(err as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`);
      }
      return { child, exited, out: () => stdout, err: () => stderr };
    };
    try {
      const header = 'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID';
      const plain = await watch([], (o) => o.split(header).length >= 4);
      plain.child.kill('SIGINT');
      expect(await plain.exited).toBe(0);
      // Blocks open with an empty line, as Kafka's do; the third may be cut off.
      const blocks = plain.out().split(/\n(?=GROUP )/).slice(1, 3).map((b) => b.split('\n').filter(Boolean));
      expect(blocks).toHaveLength(2);
      for (const [i, lines] of blocks.entries()) {
        expect(lines[0].split(/\s+/)).toEqual(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', 'CONSUME-RATE', 'TIME-TO-ZERO-LAG']);
        const cells = lines.slice(1).map((l) => l.split(/\s+/));
        expect(cells.map((c) => `${c[0]} ${c[1]} ${c[2]}`)).toEqual(['watch-group watched 0', 'watch-group watched 1']);
        for (const c of cells) {
          expect(c).toHaveLength(11);
          expect(Number(c[5])).toBe(Number(c[4]) - Number(c[3]));
          // The first tick has nothing to compare with.
          if (i === 0) expect(c.slice(9)).toEqual(['-', expect.stringMatching(/^(-|0s)$/)]);
          else {
            // (- until the watch has seen the group commit)
            expect(c[9]).toMatch(/^(\d+\.\d|-)$/);
            expect(c[10]).toMatch(/^(\d+s|\d+m\d\ds|\d+h\d\dm|∞|-|keeping-up)$/);
          }
        }
      }
      expect(plain.out().startsWith('\nGROUP ')).toBe(true);
      expect(plain.out()).toContain('\n\nGROUP ');

      const json = await watch(['--output', 'json'], (o) => o.split('\n').length >= 3);
      json.child.kill('SIGTERM');
      expect(await json.exited).toBe(143);
      const ticks = json.out().split('\n').slice(0, 2).map((l) => JSON.parse(l));
      expect(ticks[0]).toMatchObject({ time: expect.any(String), intervalSeconds: null, groups: [{ group: 'watch-group', state: 'Stable' }] });
      expect(ticks[1].intervalSeconds).toBeGreaterThan(0.3);
      for (const o of ticks[1].groups[0].offsets) {
        expect(o).toMatchObject({ topic: 'watched', currentOffset: expect.any(Number), logEndOffset: expect.any(Number), lag: expect.any(Number), produceRate: expect.any(Number), lagGrowing: expect.any(Boolean), keepingUp: expect.any(Boolean) });
        expect(o.consumeRate === null || typeof o.consumeRate === 'number').toBe(true);
        expect(o.timeToZeroLag === null || typeof o.timeToZeroLag === 'number').toBe(true);
      }

      const usage = await cg('--list', '--watch');
      expect(usage.code).toBe(1);
      expect(usage.stderr).toContain('Option(s) [watch] are unavailable given other options on the command line');
    } finally {
      producing = false;
      await producing$;
      await watcher.consumer.disconnect();
    }
  });
});
