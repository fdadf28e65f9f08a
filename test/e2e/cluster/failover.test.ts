// Issue 12, must-show 1 (and 5: on kts's coordinator and on a real Apache ZooKeeper): three
// brokers, RF=3, min.insync.replicas=2, four partitions. kafkajs, kcat (`kcat -P -X acks=all`, one
// per partition, its delivery reports giving the offsets) and librdkafka (confluent-kafka-python)
// produce with acks=all, idempotent, while a consumer group of two kafkajs members reads; five times
// in a row the leader of a partition (each partition's in turn) is killed with SIGKILL and restarted
// once the others have taken over. Every acknowledged (partition, offset, value) is read back
// exactly once at its offset; after each kill the three producers get acknowledgements from the new
// leaders and the group consumes what they wrote, before the victim comes back.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { UNKNOWN_OFFSET, ackedRecordProblems, readAllWithKcat, type PlacedRecord } from '../../helpers/acked-records.js';
import { COORDINATORS, type RunningCoordinator } from '../../helpers/coordinators.js';
import { hasExited, spawnTracked, stopProcess } from '../../helpers/processes.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';
import { KcatAckedProducer } from '../../helpers/kcat.js';
import { kcatPath } from '../../helpers/tools.js';
import { waitFor } from '../../helpers/zookeeper.js';

const TICK_MS = 500;
const SESSION_MS = 4000;
const IDS = [1, 2, 3];
const PARTITIONS = 4;
const ROUNDS = 5;
const TOPIC = 'failover';
const GROUP = 'failover-readers';
/** Each producer's pace: one record per partition every PACE_MS (about 30 records/s each). */
const PACE_MS = 130;
const PRODUCER_SCRIPT = resolve(import.meta.dirname, 'fixtures/librdkafka-acked-producer.py');

function librdkafkaInstalled(): boolean {
  try {
    execFileSync('python3', ['-c', 'import confluent_kafka'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.KTS_REQUIRE_INTEROP === '1') throw new Error('confluent-kafka (Python) is required (KTS_REQUIRE_INTEROP=1): pip install confluent-kafka');
    return false;
  }
}
const canRun = kcatPath() !== null && librdkafkaInstalled();

interface Acked extends PlacedRecord {
  at: number;
}

interface PartitionView {
  leader: number;
  isr: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(COORDINATORS)('leaders killed with SIGKILL five times, on the $name coordinator', (kind) => {
  describe.skipIf(!canRun || !kind.available)('three brokers, RF=3, min.insync.replicas=2', () => {
    let zk: RunningCoordinator;
    const brokers = new Map<number, SpawnedBroker>();
    const ports = new Map<number, number>();
    const dataDirs = new Map<number, string>();
    const consumers: Consumer[] = [];

    async function startBroker(id: number): Promise<void> {
      const broker = await spawnBroker({
        port: ports.get(id),
        dataDir: dataDirs.get(id),
        timeoutMs: SESSION_MS * 3 + 30_000,
        overrides: {
          'broker.id': String(id),
          'zookeeper.connect': `127.0.0.1:${zk.port}/kafka`,
          'zookeeper.session.timeout.ms': String(SESSION_MS),
          'replica.fetch.wait.max.ms': '200',
          'offsets.topic.num.partitions': '3',
        },
      });
      brokers.set(id, broker);
      ports.set(id, broker.port);
      dataDirs.set(id, broker.dataDir);
    }

    const live = () => IDS.filter((id) => brokers.has(id) && !hasExited(brokers.get(id)!.process));
    const bootstrap = () => IDS.map((id) => `127.0.0.1:${ports.get(id)}`);
    const kafka = () =>
      new Kafka({ brokers: bootstrap(), logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });

    /** The topic's partitions as one broker's metadata cache has them. */
    async function viewOf(id: number): Promise<Map<number, PartitionView> | null> {
      let client: RawClient | undefined;
      try {
        client = await RawClient.connect(ports.get(id)!);
        const body = await client.request(3, 9, { topics: [{ name: TOPIC }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
        const t = body.topics[0];
        if (t.errorCode !== 0 || t.partitions.length !== PARTITIONS) return null;
        return new Map(t.partitions.map((p: any) => [p.partitionIndex, { leader: p.leaderId, isr: [...p.isrNodes].sort() }]));
      } catch {
        return null;
      } finally {
        client?.close();
      }
    }

    /** The view every live broker agrees on, once it satisfies `ok` on each of them. */
    async function agreedView(what: string, ok: (view: Map<number, PartitionView>) => boolean, timeoutMs = 40_000): Promise<Map<number, PartitionView>> {
      return waitFor(what, async () => {
        let agreed: Map<number, PartitionView> | null = null;
        for (const id of live()) {
          const view = await viewOf(id);
          if (!view || !ok(view)) return null;
          agreed ??= view;
        }
        return agreed;
      }, timeoutMs);
    }
    const everyIsrFull = (view: Map<number, PartitionView>) => [...view.values()].every((p) => p.isr.length === IDS.length && IDS.includes(p.leader));

    beforeAll(async () => {
      zk = await kind.start(TICK_MS);
      await Promise.all(IDS.map((id) => startBroker(id)));
    }, 120_000);

    afterAll(async () => {
      await Promise.all(consumers.map((c) => c.disconnect().catch(() => {})));
      for (const b of brokers.values()) await b.stop();
      await zk?.stop();
    }, 120_000);

    it('every acknowledged record is read back once at its offset; producers and the group go on after each kill', async () => {
      const admin = kafka().admin();
      await admin.connect();
      try {
        await admin.createTopics({
          topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
          waitForLeaders: true,
        });
      } finally {
        await admin.disconnect();
      }
      await agreedView('the topic fully replicated on every broker', everyIsrFull);

      // The consumer group: two kafkajs members; what each consumed, by partition.
      const consumed: Acked[] = [];
      const events: string[] = [];
      const consumedUpTo = new Map<number, number>();
      for (let m = 0; m < 2; m++) {
        const logged = new Kafka({
          brokers: bootstrap(),
          logLevel: logLevel.WARN,
          logCreator: () => ({ level, log }) => events.push(`${Date.now()} member ${m} kafkajs ${level}: ${log.message} ${JSON.stringify({ ...log, message: undefined, timestamp: undefined, logger: undefined }).slice(0, 300)}`),
          retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
        });
        const consumer = logged.consumer({ groupId: GROUP, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 200 });
        consumers.push(consumer);
        consumer.on(consumer.events.CRASH, (e) => events.push(`${Date.now()} member ${m} crashed: ${e.payload.error.message} (restart: ${e.payload.restart})`));
        consumer.on(consumer.events.GROUP_JOIN, (e) => events.push(`${Date.now()} member ${m} joined as ${e.payload.memberId}: ${JSON.stringify(e.payload.memberAssignment)}`));
        await consumer.connect();
        await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ partition, message }) => {
            const offset = Number(message.offset);
            consumed.push({ partition, offset, value: message.value!.toString(), at: Date.now() });
            consumedUpTo.set(partition, Math.max(consumedUpTo.get(partition) ?? -1, offset));
          },
        });
      }

      // kafkajs: an idempotent producer, one send at a time per partition.
      const kafkajsAcked: Acked[] = [];
      const kafkajsFailed: string[] = [];
      let producing = true;
      const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const kafkajsLoops = Array.from({ length: PARTITIONS }, async (_, partition) => {
        for (let i = 0; producing; i++) {
          const value = `kafkajs-p${partition}-${i}`;
          try {
            const [meta] = await producer.send({ topic: TOPIC, acks: -1, timeout: 30_000, messages: [{ partition, value }] });
            kafkajsAcked.push({ partition, offset: Number(meta.baseOffset), value, at: Date.now() });
          } catch (err) {
            kafkajsFailed.push(`${value}: ${(err as Error).message}`);
          }
          await sleep(PACE_MS);
        }
      });

      // librdkafka: the same, from its own process (delivery reports name partition and offset).
      const librdkafkaAcked: Acked[] = [];
      const librdkafkaFailed: string[] = [];
      let librdkafkaDone = false;
      const rdk = spawnTracked('python3', [PRODUCER_SCRIPT, bootstrap().join(','), TOPIC, String(PARTITIONS), 'librdkafka', String(Math.round(PACE_MS / PARTITIONS))], { stdio: ['ignore', 'pipe', 'pipe'] });
      let rdkErr = '';
      rdk.stderr!.on('data', (d) => (rdkErr += d));
      createInterface({ input: rdk.stdout! }).on('line', (line) => {
        const e = JSON.parse(line);
        // confluent-kafka-python gives None for librdkafka's -1001 (an implicit acknowledgement).
        if (e.event === 'acked') librdkafkaAcked.push({ partition: e.partition, offset: e.offset ?? UNKNOWN_OFFSET, value: e.value, at: Date.now() });
        else if (e.event === 'failed') librdkafkaFailed.push(`${e.value}: ${e.error}`);
        else if (e.event === 'done') librdkafkaDone = true;
      });

      // kcat: one `kcat -P -p <partition>` per partition, fed a line every PACE_MS.
      const kcats = Array.from({ length: PARTITIONS }, (_, partition) => new KcatAckedProducer(bootstrap().join(','), TOPIC, partition));
      const kcatAcked = () => kcats.flatMap((k) => k.acked);
      const kcatFailed = () => kcats.flatMap((k) => k.failed);
      const kcatLoops = kcats.map(async (k) => {
        for (let i = 0; producing && k.running(); i++) {
          k.send(`kcat-p${k.partition}-${i}`);
          await sleep(PACE_MS);
        }
      });

      await waitFor('acknowledgements from the three producers on every partition', () =>
        [kafkajsAcked, librdkafkaAcked, kcatAcked()].every((acked) => Array.from({ length: PARTITIONS }, (_, p) => p).every((p) => acked.some((r) => r.partition === p))),
        60_000,
      );

      const killed = new Set<number>();
      const rounds: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const before = await agreedView(`round ${round}: every ISR full`, everyIsrFull);
        const target = round % PARTITIONS;
        const victim = before.get(target)!.leader;
        const led = [...before].filter(([, p]) => p.leader === victim).map(([p]) => p);

        const killedAt = Date.now();
        /** What a failed wait of this round adds to its message: the clients' and brokers' view. */
        const explain = async (err: Error): Promise<never> => {
          const admin = kafka().admin();
          let offsets = '';
          try {
            await admin.connect();
            offsets = JSON.stringify(await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })) + ' ends ' + JSON.stringify(await admin.fetchTopicOffsets(TOPIC)) + ' group ' + JSON.stringify(await admin.describeGroups([GROUP]));
          } catch (e) {
            offsets = `admin failed: ${(e as Error).message}`;
          } finally {
            await admin.disconnect();
          }
          events.push(offsets);
          try {
            const view = (await viewOf(live()[0]))!;
            for (const p of led) {
              const client = await RawClient.connect(ports.get(view.get(p)!.leader)!);
              for (const isolationLevel of [0, 1]) {
                const fetched = await client.request(1, 11, fetchBody(TOPIC, [{ partition: p, offset: consumedUpTo.get(p) ?? 0 }], { maxBytes: 1_000_000, isolationLevel }));
                const r = fetched.responses[0].partitions[0];
                events.push(`raw fetch p${p} at ${consumedUpTo.get(p)} iso ${isolationLevel} from ${view.get(p)!.leader}: error ${r.errorCode} hw ${r.highWatermark} lso ${r.lastStableOffset} aborted ${JSON.stringify(r.abortedTransactions)} bytes ${r.records?.length}`);
              }
              client.close();
            }
          } catch (e) {
            events.push(`raw fetch failed: ${(e as Error).message}`);
          }
          const lastAck = (acked: Acked[]) => JSON.stringify(Array.from({ length: PARTITIONS }, (_, p) => acked.filter((r) => r.partition === p).at(-1)));
          const brokerLines = live().map((id) => `broker ${id}:\n${brokers.get(id)!.output().split('\n').filter((l) => /group|oordinator|__consumer_offsets|WARN|ERROR|ISR|leader/i.test(l)).slice(-20).join('\n')}`);
          throw new Error(
            `${err.message}\nkilled broker ${victim} at ${killedAt}, new leaders at ${electedAt}; consumed up to ${JSON.stringify([...consumedUpTo])}\n` +
              `last kafkajs acks ${lastAck(kafkajsAcked)}\nlast librdkafka acks ${lastAck(librdkafkaAcked)}\nlast kcat acks ${lastAck(kcatAcked())}\n` +
              `kafkajs gave up: ${kafkajsFailed.slice(-3).join('; ')}\nlibrdkafka gave up: ${librdkafkaFailed.slice(-3).join('; ')}\nlibrdkafka stderr: ${rdkErr.slice(-1500)}\n` +
              `kcat gave up: ${kcatFailed().slice(-3).join('; ')}\nkcat stderr: ${kcats.map((k) => `p${k.partition}${k.running() ? '' : ' (exited)'}: ${k.stderr().slice(-500)}`).join('\n')}\n` +
              `${events.slice(-25).join('\n')}\n${brokerLines.join('\n')}`,
          );
        };
        let electedAt = 0;
        await brokers.get(victim)!.kill9();
        await agreedView(`round ${round}: new leaders for broker ${victim}'s partitions ${led}`, (view) =>
          [...view.values()].every((p) => p.leader !== victim && IDS.includes(p.leader)),
          SESSION_MS * 4 + 20_000,
        );
        electedAt = Date.now();
        for (const p of led) killed.add(p);

        // The three producers are acknowledged by the new leaders, and the group reads what they wrote.
        // An implicit acknowledgement names no offset (UNKNOWN_OFFSET): the first one with an offset counts.
        const firstAckAfter = (acked: Acked[], p: number) => acked.find((r) => r.partition === p && r.at > electedAt && r.offset !== UNKNOWN_OFFSET);
        const producers = () => [kafkajsAcked, librdkafkaAcked, kcatAcked()];
        await waitFor(`round ${round}: the three producers acknowledged on partitions ${led} by the new leaders`, () =>
          led.every((p) => producers().every((acked) => firstAckAfter(acked, p))),
          40_000,
        ).catch(explain);
        const ackedMs = Math.max(...led.flatMap((p) => producers().map((acked) => firstAckAfter(acked, p)!.at))) - killedAt;
        await waitFor(`round ${round}: the group consumes from the new leaders of ${led}`, () =>
          led.every((p) => (consumedUpTo.get(p) ?? -1) >= Math.min(...producers().map((acked) => firstAckAfter(acked, p)!.offset))),
          40_000,
        ).catch(explain);
        const consumedMs = Date.now() - killedAt;

        const restartedAt = Date.now();
        await startBroker(victim);
        await agreedView(`round ${round}: broker ${victim} back in every ISR`, everyIsrFull);
        rounds.push(
          `round ${round}: broker ${victim} (leader of ${led.join(',')}) SIGKILLed; new leaders after ${electedAt - killedAt} ms, ` +
            `the three producers acknowledged by them after ${ackedMs} ms, the group read their records after ${consumedMs} ms; ` +
            `restarted and back in every ISR after ${Date.now() - restartedAt} ms`,
        );
      }
      expect([...killed].sort()).toEqual(Array.from({ length: PARTITIONS }, (_, p) => p));

      producing = false;
      await Promise.all(kafkajsLoops);
      await producer.disconnect();
      await stopProcess(rdk, 'SIGTERM', 90_000);
      expect(librdkafkaDone, rdkErr).toBe(true);
      await Promise.all(kcatLoops);
      for (const k of kcats) {
        // Every line sent got its delivery report (kcat exits 1 when one of them was a failure).
        const { unreported } = await k.close();
        expect({ partition: k.partition, unreported, unmatched: k.unmatched }, k.stderr()).toEqual({ partition: k.partition, unreported: 0, unmatched: [] });
      }

      const acked = [...kafkajsAcked, ...librdkafkaAcked, ...kcatAcked()];
      const read = await readAllWithKcat(bootstrap().join(','), TOPIC);
      expect(ackedRecordProblems(acked, read)).toEqual([]);

      // The group read every acknowledged record (at least once: a rebalance may repeat some).
      await waitFor('the group consumed every acknowledged record', () => {
        const seen = new Set(consumed.map((r) => r.value));
        return acked.every((r) => seen.has(r.value));
      }, 60_000);

      console.log(
        `[failover on ${kind.name}] ${acked.length} records acknowledged (kafkajs ${kafkajsAcked.length}, librdkafka ${librdkafkaAcked.length}, kcat ${kcatAcked().length}), ` +
          `${kafkajsFailed.length + librdkafkaFailed.length + kcatFailed().length} given up (kafkajs ${kafkajsFailed.length}, librdkafka ${librdkafkaFailed.length}, kcat ${kcatFailed().length}), ` +
          `${read.length} read back, ${consumed.length} consumed by the group\n  ${rounds.join('\n  ')}`,
      );
      if (kafkajsFailed.length + librdkafkaFailed.length + kcatFailed().length > 0) console.log(`  given up: ${[...kafkajsFailed, ...librdkafkaFailed, ...kcatFailed()].slice(0, 5).join('\n  ')}`);
      expect(kafkajsAcked.length).toBeGreaterThan(100);
      expect(librdkafkaAcked.length).toBeGreaterThan(100);
      expect(kcatAcked().length).toBeGreaterThan(100);
    }, 400_000);
  });
});
