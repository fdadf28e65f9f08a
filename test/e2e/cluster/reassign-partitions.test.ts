// Partition reassignment (issue 12, item 4; and 5: on the kts coordinator and on a real Apache
// ZooKeeper) on three kts brokers: a topic
// with RF=2 on brokers {0,1} moves to {1,2} with `kts reassign-partitions` while idempotent kafkajs
// producers write with acks=all (min.insync.replicas=2) without pause. The reassignment is held in
// progress (the new replica's broker paused) long enough to see it in --verify, --list and `topics
// --describe`, and the controller is killed with SIGKILL meanwhile: the next controller finishes it
// from the topic znode. Afterwards no acknowledged record is lost, the offsets have no gap, a
// consumer reads every record exactly once, and broker 0 has deleted its copy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { KTS_BIN, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { run, kcat } from '../../helpers/kcat.js';
import { kcatPath } from '../../helpers/tools.js';
import { RawClient } from '../../helpers/raw-client.js';
import { COORDINATORS, type RunningCoordinator } from '../../helpers/coordinators.js';
import { waitFor } from '../../helpers/zookeeper.js';

// A paused broker's session must outlast several CLI runs on a loaded machine; ZooKeeper caps a session
// at 20 ticks, hence 1 s ticks (500 ms ticks capped it at 10 s).
const SESSION_MS = 20_000;
const TICK_MS = 1000;
const IDS = [0, 1, 2];
const TOPIC = 'moving';

describe.each(COORDINATORS)('reassign-partitions on the $name coordinator', (kind) => {
  describe.skipIf(!kind.available)('three brokers', () => {
    let coordinator: RunningCoordinator;
    const brokers = new Map<number, SpawnedBroker>();
    const ports = new Map<number, number>();
    const dataDirs = new Map<number, string>();

    async function startBroker(id: number): Promise<SpawnedBroker> {
      const broker = await spawnBroker({
        port: ports.get(id),
        dataDir: dataDirs.get(id),
        overrides: {
          'broker.id': String(id),
          'zookeeper.connect': `127.0.0.1:${coordinator.port}/kafka`,
          'zookeeper.session.timeout.ms': String(SESSION_MS),
          'replica.lag.time.max.ms': '4000',
          'replica.fetch.wait.max.ms': '200',
          'replica.high.watermark.checkpoint.interval.ms': '500',
        },
      });
      brokers.set(id, broker);
      ports.set(id, broker.port);
      dataDirs.set(id, broker.dataDir);
      return broker;
    }

    const alive = (id: number) => {
      const p = brokers.get(id)!.process;
      return p.exitCode === null && p.signalCode === null;
    };
    const bootstrapOf = (ids: number[]) => ids.map((id) => brokers.get(id)!.bootstrap).join(',');
    const kts = (args: string[]) => run(process.execPath, [KTS_BIN, ...args], { timeoutMs: 60_000 });

    async function metadataFrom(id: number, topic: string) {
      const client = await RawClient.connect(ports.get(id)!);
      try {
        return await client.request(3, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      } finally {
        client.close();
      }
    }

    beforeAll(async () => {
      coordinator = await kind.start(TICK_MS);
      // 0 and 1 first: the controller is one of them, never the broker the test pauses.
      await Promise.all([startBroker(0), startBroker(1)]);
      await waitFor('a controller', async () => ((await metadataFrom(0, TOPIC)).controllerId >= 0 ? true : null), 20_000);
      await startBroker(2);
    }, 120_000);

    afterAll(async () => {
      for (const b of brokers.values()) {
        b.process.kill('SIGCONT');
        await b.stop();
      }
      await coordinator?.stop();
    });

    interface Acked {
      value: string;
      offset: number;
    }

    /** An idempotent acks=all producer sending one record at a time until stopped; every acknowledgement kept. */
    function keepProducing(producer: Producer, name: string) {
      const acked: Acked[] = [];
      const failures: string[] = [];
      let stopping = false;
      const done = (async () => {
        for (let i = 0; !stopping; i++) {
          const value = `${name}-${i}`;
          try {
            const [meta] = await producer.send({ topic: TOPIC, acks: -1, timeout: 30_000, messages: [{ partition: 0, value }] });
            acked.push({ value, offset: Number(meta.baseOffset) });
          } catch (err) {
            // Not acknowledged: may or may not be in the log; the checks below allow for it.
            failures.push(`${value}: ${(err as Error).message}`);
          }
        }
      })();
      return {
        acked,
        failures,
        async stop() {
          stopping = true;
          await done;
        },
      };
    }

    describe.skipIf(kcatPath() === null)('kts reassign-partitions under load', () => {
      it('moves RF=2 from {0,1} to {1,2} across a controller failover: no acknowledged record lost, no gap, read exactly once', async () => {
        const kafka = new Kafka({ brokers: bootstrapOf(IDS).split(','), logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
        const admin = kafka.admin();
        await admin.connect();
        try {
          await admin.createTopics({
            topics: [{ topic: TOPIC, replicaAssignment: [{ partition: 0, replicas: [0, 1] }], configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
            waitForLeaders: true,
          });
        } finally {
          await admin.disconnect();
        }
        for (const id of IDS) {
          await waitFor(`${TOPIC} known to broker ${id}`, async () => {
            const p = (await metadataFrom(id, TOPIC)).topics[0]?.partitions?.[0];
            return p && p.leaderId >= 0 && p.isrNodes.length === 2 ? true : null;
          }, 20_000);
        }

        const producers = [kafka.producer({ idempotent: true, maxInFlightRequests: 1 }), kafka.producer({ idempotent: true, maxInFlightRequests: 1 })];
        await Promise.all(producers.map((p) => p.connect()));
        const loads = producers.map((p, i) => keepProducing(p, `p${i}`));
        const dir = tempDir('kts-reassign-');
        const plan = join(dir, 'plan.json');
        writeFileSync(plan, JSON.stringify({ version: 1, partitions: [{ topic: TOPIC, partition: 0, replicas: [1, 2] }] }));
        const all = bootstrapOf(IDS);
        try {
          await waitFor('some acknowledged records', () => loads.every((l) => l.acked.length >= 20), 30_000);

          // The new replica's broker is paused: the reassignment cannot complete until it resumes.
          brokers.get(2)!.process.kill('SIGSTOP');
          const executed = await kts(['reassign-partitions', '--bootstrap-server', bootstrapOf([0, 1]), '--execute', '--reassignment-json-file', plan]);
          expect(executed.stderr).toBe('');
          expect(executed.stdout).toBe(
            'Current partition replica assignment\n\n' +
              `{"version":1,"partitions":[{"topic":"${TOPIC}","partition":0,"replicas":[0,1],"log_dirs":["any","any"]}]}\n\n` +
              'Save this to use as the --reassignment-json-file option during rollback\n' +
              `Successfully started partition reassignment for ${TOPIC}-0\n`,
          );
          expect(executed.code).toBe(0);

          const verifying = await kts(['reassign-partitions', '--bootstrap-server', bootstrapOf([0, 1]), '--verify', '--reassignment-json-file', plan]);
          expect(verifying).toMatchObject({ code: 0, stdout: `Status of partition reassignment:\nReassignment of partition ${TOPIC}-0 is still in progress.\n\n` });
          const listed = await kts(['reassign-partitions', '--bootstrap-server', bootstrapOf([0, 1]), '--list']);
          expect(listed).toMatchObject({ code: 0, stdout: `Current partition reassignments:\n${TOPIC}-0: replicas: 1,2,0. adding: 2. removing: 0.\n` });
          const described = await kts(['topics', '--bootstrap-server', bootstrapOf([0, 1]), '--describe', '--topic', TOPIC]);
          expect(described.stdout).toMatch(new RegExp(`ReplicationFactor: 2\\t`));
          expect(described.stdout).toMatch(/\tReplicas: 1,2,0\tIsr: [01],[01]\tAdding Replicas: 2\tRemoving Replicas: 0\tElr: /);

          // The controller dies mid-reassignment; the next one must finish it from the znode.
          const controller = (await metadataFrom(0, TOPIC)).controllerId;
          expect([0, 1]).toContain(controller);
          await brokers.get(controller)!.kill9();
          brokers.get(2)!.process.kill('SIGCONT');
          await waitFor('a new controller', async () => {
            const c = (await metadataFrom(controller === 0 ? 1 : 0, TOPIC).catch(() => null))?.controllerId;
            return c !== undefined && c >= 0 && c !== controller ? true : null;
          }, SESSION_MS + 20_000);
          const killedOutput = brokers.get(controller)!.output();
          await startBroker(controller);

          const finished = await waitFor('the reassignment to complete', async () => {
            const r = await kts(['reassign-partitions', '--bootstrap-server', all, '--verify', '--reassignment-json-file', plan]);
            return r.stdout.includes('is completed') ? r : null;
          }, 60_000);
          expect(finished).toMatchObject({
            code: 0,
            stderr: '',
            stdout:
              `Status of partition reassignment:\nReassignment of partition ${TOPIC}-0 is completed.\n\n` +
              `Clearing broker-level throttles on brokers 0,1,2\nClearing topic-level throttles on topic ${TOPIC}\n`,
          });
          // The controller that wrote the move never saw the new replica in the ISR: the next one finished it.
          expect(killedOutput).toContain(`Partition ${TOPIC}-0: reassigning to [1,2]`);
          expect(killedOutput).not.toContain('reassignment to [1,2] completed');
          expect(IDS.filter((id) => brokers.get(id)!.output().includes(`Partition ${TOPIC}-0: reassignment to [1,2] completed`))).toHaveLength(1);
          // Load goes on a while on the new replicas.
          const ackedAtEnd = loads.map((l) => l.acked.length);
          await waitFor('records acknowledged after the move', () => loads.every((l, i) => l.acked.length >= ackedAtEnd[i] + 20), 30_000);
        } finally {
          for (const l of loads) await l.stop();
          await Promise.all(producers.map((p) => p.disconnect()));
        }

        const state = await waitFor('replicas 1,2 with both in the ISR everywhere', async () => {
          const answers = await Promise.all(IDS.map((id) => metadataFrom(id, TOPIC).then((m) => m.topics[0].partitions[0])));
          return answers.every((p) => p.replicaNodes.join(',') === '1,2' && [...p.isrNodes].sort().join(',') === '1,2') ? answers[0] : null;
        }, 30_000);
        expect([1, 2]).toContain(state.leaderId);
        await waitFor('broker 0 to delete its copy', () => !existsSync(join(dataDirs.get(0)!, `${TOPIC}-0`)), 30_000);
        expect(IDS.every(alive)).toBe(true);

        // Everything acknowledged is there, once, at the offset it was acknowledged at; no gap.
        const acked = loads.flatMap((l) => l.acked);
        const out = await kcat(['-b', all, '-C', '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-f', '%o %s\n'], { timeoutMs: 60_000 });
        const read = out.split('\n').filter(Boolean).map((line) => {
          const [offset, value] = line.split(' ');
          return { offset: Number(offset), value };
        });
        expect(read.map((r) => r.offset)).toEqual(read.map((_, i) => i));
        const values = read.map((r) => r.value);
        expect(new Set(values).size).toBe(values.length);
        const atOffset = new Map(read.map((r) => [r.value, r.offset]));
        const lost = acked.filter((a) => atOffset.get(a.value) !== a.offset);
        expect(lost).toEqual([]);
        // Whatever is in the log but was never acknowledged came from a send that failed.
        const failed = new Set(loads.flatMap((l) => l.failures.map((f) => f.split(':')[0])));
        const ackedValues = new Set(acked.map((a) => a.value));
        expect(values.filter((v) => !ackedValues.has(v) && !failed.has(v))).toEqual([]);
        console.log(`reassignment under load: ${acked.length} records acknowledged, ${read.length} read, ${failed.size} sends failed`);
      }, 240_000);

      it('--execute refuses a second move without --additional; --cancel reverts to the original replicas and the new one never keeps a copy', async () => {
        const topic = 'cancelled';
        const all = bootstrapOf(IDS);
        // The broker paused (the one added) must not be the controller: the tools need the controller.
        const controller = (await metadataFrom(0, topic)).controllerId;
        const [kept, paused] = IDS.filter((id) => id !== controller);
        const reachable = bootstrapOf([controller, kept]);
        const created = await kts(['topics', '--bootstrap-server', all, '--create', '--topic', topic, '--replica-assignment', `${controller}:${kept}`]);
        expect(created.stdout).toBe(`Created topic ${topic}.\n`);
        for (const id of IDS) {
          await waitFor(`${topic} known to broker ${id}`, async () => ((await metadataFrom(id, topic)).topics[0]?.partitions?.[0]?.isrNodes.length === 2 ? true : null), 20_000);
        }
        const dir = tempDir('kts-reassign-');
        const plan = join(dir, 'plan.json');
        writeFileSync(plan, JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, replicas: [kept, paused] }] }));
        brokers.get(paused)!.process.kill('SIGSTOP');
        try {
          const first = await kts(['reassign-partitions', '--bootstrap-server', reachable, '--execute', '--reassignment-json-file', plan]);
          expect(first.code, first.stdout + first.stderr).toBe(0);
          const again = await kts(['reassign-partitions', '--bootstrap-server', reachable, '--execute', '--reassignment-json-file', plan]);
          expect(again).toMatchObject({
            code: 1,
            stderr: '',
            stdout:
              'Cannot execute because there is an existing partition assignment.  Use --additional to override this and create a new partition assignment in addition to the existing one. ' +
              'The --additional flag can also be used to change the throttle by resubmitting the current reassignment.\n',
          });
          expect((await kts(['reassign-partitions', '--bootstrap-server', reachable, '--list'])).stdout).toBe(
            `Current partition reassignments:\n${topic}-0: replicas: ${kept},${paused},${controller}. adding: ${paused}. removing: ${controller}.\n`,
          );
          const listed = await kts(['reassign-partitions', '--bootstrap-server', reachable, '--list', '--output', 'json']);
          expect(JSON.parse(listed.stdout)).toEqual({ reassignments: [{ partition: `${topic}-0`, replicas: [kept, paused, controller], adding: [paused], removing: [controller] }] });
          // --preserve-throttles: clearing them would ask the paused broker too. Kafka ends the last line without a line break.
          const cancelled = await kts(['reassign-partitions', '--bootstrap-server', reachable, '--cancel', '--preserve-throttles', '--reassignment-json-file', plan]);
          expect(cancelled).toMatchObject({
            code: 0,
            stderr: '',
            stdout: `Successfully cancelled partition reassignment for: ${topic}-0\nNone of the specified partition moves are active.`,
          });
          expect((await kts(['reassign-partitions', '--bootstrap-server', reachable, '--list'])).stdout).toBe('No partition reassignments found.\n');
        } finally {
          brokers.get(paused)!.process.kill('SIGCONT');
        }
        // As Kafka: the original replicas, in the order the move left them (targets first).
        for (const id of IDS) {
          await waitFor(`broker ${id}: ${topic} back on ${kept},${controller}`, async () => {
            const p = (await metadataFrom(id, topic)).topics[0].partitions[0];
            return p.replicaNodes.join(',') === `${kept},${controller}` && p.isrNodes.length === 2 && !p.isrNodes.includes(paused) ? true : null;
          }, 30_000);
        }
        const verified = await kts(['reassign-partitions', '--bootstrap-server', all, '--verify', '--preserve-throttles', '--reassignment-json-file', plan]);
        expect(verified.stdout).toBe(`Status of partition reassignment:\nThere is no active reassignment of partition ${topic}-0, but replica set is ${kept},${controller} rather than ${kept},${paused}.\n\n`);
        expect(existsSync(join(dataDirs.get(paused)!, `${topic}-0`))).toBe(false);
        const move = join(dir, 'topics.json');
        writeFileSync(move, JSON.stringify({ version: 1, topics: [{ topic }] }));
        const generated = await kts(['reassign-partitions', '--bootstrap-server', all, '--generate', '--topics-to-move-json-file', move, '--broker-list', `${kept},${paused}`, '--output', 'json']);
        const doc = JSON.parse(generated.stdout);
        expect(doc.current, generated.stderr).toEqual([{ topic, partition: 0, replicas: [kept, controller] }]);
        // Kafka's placement starts at a random broker: either order of the two.
        expect(doc.proposed).toHaveLength(1);
        expect([...doc.proposed[0].replicas].sort()).toEqual([kept, paused].sort());
        await kcat(['-b', all, '-P', '-t', topic, '-p', '0', '-X', 'acks=all'], { input: 'after-cancel\n' });
      }, 120_000);
    });
  });
});
