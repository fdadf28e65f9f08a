// Exactly-once consume-transform-produce through crashes (issue 14, must-show 2): a kafkajs app
// (fixtures/ctp-app.mjs: read_committed consumer + transactional producer + sendOffsets) copies
// `in` to `out` while the test kills the broker and the app with SIGKILL at random points, 10
// cycles, restarting both each time. At the end `out`, read with read_committed, holds every input
// record exactly once and in order per partition. The kill points come from a seeded PRNG
// (KTS_EOS_SEED=<n> replays a run); the seed is printed on failure.
import { type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { hasExited, spawnTracked, stopProcess } from '../../helpers/processes.js';
import { pollUntil, storedBatches, type StoredBatch } from './support.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const APP = resolve(import.meta.dirname, 'fixtures/ctp-app.mjs');
const PARTITIONS = 2;
/** Records added to each partition of `in` before each run of the app. */
const PER_CYCLE = 300;
const CYCLES = 10;
const GROUP = 'eos-ctp';
const TXN_ID = 'eos-ctp-app';
const BROKER_OVERRIDES = { 'group.min.session.timeout.ms': '1000', 'transaction.abort.timed.out.transaction.cleanup.interval.ms': '1000' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The app process, started again by the test whenever it ends on its own (an error) until killed. */
class App {
  private child: ChildProcess | null = null;
  private stopped = false;
  commits = 0;
  output = '';
  constructor(
    private readonly bootstrap: string,
    private readonly chunk: number,
  ) {}

  start(): void {
    this.stopped = false;
    const spawnOne = () => {
      const child = spawnTracked(process.execPath, [APP, this.bootstrap, GROUP, TXN_ID, String(this.chunk)], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      child.stdout!.on('data', (d: Buffer) => {
        const text = d.toString();
        this.commits += (text.match(/^committed /gm) ?? []).length;
        this.output = (this.output + text).slice(-20_000);
      });
      child.stderr!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000)));
      child.once('exit', () => {
        if (!this.stopped) setTimeout(() => !this.stopped && spawnOne(), 200);
      });
    };
    spawnOne();
  }

  async kill9(): Promise<void> {
    this.stopped = true;
    if (this.child && !hasExited(this.child)) await stopProcess(this.child, 'SIGKILL');
  }
}

/** Records of a partition a read_committed reader keeps, from the stored batches: transactional data whose producer's next marker is COMMIT, and non-transactional data. */
function committedValues(batches: StoredBatch[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i];
    if (b.marker) continue;
    if (b.transactional) {
      const end = batches.slice(i + 1).find((m) => m.marker && m.producerId === b.producerId);
      if (end?.marker !== 'COMMIT') continue;
    }
    out.push(...b.values);
  }
  return out;
}

describe('exactly-once consume-transform-produce through kill -9', () => {
  let broker: SpawnedBroker | undefined;
  let app: App | undefined;
  afterAll(async () => {
    await app?.kill9();
    await broker?.stop();
  });

  it(`${CYCLES} cycles of kill -9 of the broker and the app: out holds every input once, in order`, async () => {
    const seed = Number(process.env.KTS_EOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const random = seededRandom(seed);
    const log: string[] = [`seed ${seed} (KTS_EOS_SEED=${seed} replays the kill points)`];
    try {
      broker = await spawnBroker({ overrides: BROKER_OVERRIDES });
      const kafka = () => new Kafka({ brokers: [broker!.bootstrap], logLevel: logLevel.NOTHING });
      const admin = kafka().admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'in', numPartitions: PARTITIONS }, { topic: 'out', numPartitions: PARTITIONS }] });
      await admin.disconnect();
      // The input grows before each run of the app (a stream), so that every cycle has work to kill.
      const input: string[][] = Array.from({ length: PARTITIONS }, () => []);
      const feed = async () => {
        const producer = kafka().producer({ allowAutoTopicCreation: false });
        await producer.connect();
        try {
          for (let p = 0; p < PARTITIONS; p++) {
            const values = Array.from({ length: PER_CYCLE }, (_, i) => `${p}-${input[p].length + i}`);
            await producer.send({ topic: 'in', acks: -1, messages: values.map((v) => ({ key: v, value: v, partition: p })) });
            input[p].push(...values);
          }
        } finally {
          await producer.disconnect();
        }
      };

      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        await feed();
        const chunk = 1 + Math.floor(random() * 20);
        app = new App(broker.bootstrap, chunk);
        app.start();
        // The kill point: some time after the app's first commit of this cycle (mid-transaction
        // most of the time), the broker or the app first, the other after a random gap.
        const before = app.commits;
        await pollUntil(async () => app!.commits, (c) => c > before, 120_000, `cycle ${cycle}: a commit by the app`);
        const afterCommit = Math.floor(random() * 1500);
        const brokerFirst = random() < 0.5;
        const gap = Math.floor(random() * 500);
        await sleep(afterCommit);
        const commitsAtKill = app.commits;
        if (brokerFirst) {
          await broker.kill9();
          await sleep(gap);
          await app.kill9();
        } else {
          await app.kill9();
          await sleep(gap);
          await broker.kill9();
        }
        log.push(`cycle ${cycle}: chunk ${chunk}, killed ${afterCommit} ms after the first commit, ${brokerFirst ? 'broker' : 'app'} first, gap ${gap} ms; ${commitsAtKill} commits`);
        broker = await spawnBroker({ port: broker.port, dataDir: broker.dataDir, overrides: BROKER_OVERRIDES });
      }

      // The last run: the app drains `in` (the group's committed offsets reach the end).
      await feed();
      app = new App(broker.bootstrap, 7);
      app.start();
      const offsetsAdmin = kafka().admin();
      await offsetsAdmin.connect();
      try {
        await pollUntil(
          () => offsetsAdmin.fetchOffsets({ groupId: GROUP, topics: ['in'], resolveOffsets: false }),
          (t) => t[0].partitions.every((p) => Number(p.offset) === input[p.partition].length),
          240_000,
          'the app to drain in',
        );
      } finally {
        await offsetsAdmin.disconnect();
      }
      await app.kill9();

      // kafkajs read_committed from the beginning of out.
      const consumer = kafka().consumer({ groupId: `eos-check-${seed}`, readUncommitted: false, maxWaitTimeInMs: 200 });
      const seen: string[][] = Array.from({ length: PARTITIONS }, () => []);
      await consumer.connect();
      await consumer.subscribe({ topics: ['out'], fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }) => void seen[partition].push(String(message.value)) });
      const expected = input.map((values) => values.map((v) => `out:${v}`));
      try {
        await pollUntil(async () => seen.reduce((n, s) => n + s.length, 0), (n) => n >= PARTITIONS * input[0].length, 120_000, 'read_committed consumer');
        await sleep(1000); // anything beyond the expected count would show up now
      } finally {
        await consumer.disconnect();
      }
      for (let p = 0; p < PARTITIONS; p++) {
        expect(seen[p], `out-${p} read_committed by kafkajs`).toEqual(expected[p]);
        // The same from the stored batches and their markers.
        expect(committedValues(await storedBatches(broker.port, 'out', p)), `out-${p} from its batches and markers`).toEqual(expected[p]);
      }
      console.log(log.join('\n'));
    } catch (err) {
      console.error(`${log.join('\n')}\n${(err as Error).message}\n--- app output (tail):\n${app?.output.slice(-4000) ?? ''}\n--- broker output (tail):\n${broker?.output().slice(-4000) ?? ''}`);
      throw new Error(`seed ${seed}: ${(err as Error).message}`, { cause: err });
    }
  }, 900_000);
});
