// consumer-groups --watch against a consumer that keeps up but commits only every 2 s (as the Java
// consumer does with auto.commit.interval.ms, every 5 s by default): between commits its committed
// offset stands still while the log end moves. The watch must show its real consume rate (close to
// the produce rate, never 0) and "keeping up" rather than a lag growing to ∞.
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KTS_BIN, spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';

describe('consumer-groups --watch rates of a consumer committing every 2 s', () => {
  let broker: SpawnedBroker;
  let producer: Producer;
  let consumer: Consumer;
  let producing = true;
  let producing$: Promise<void>;
  let consumed = 0;
  let committing: NodeJS.Timeout | undefined;
  beforeAll(async () => {
    broker = await spawnBroker();
    const kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'watch-rates', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'steady', numPartitions: 1 }] });
    await admin.disconnect();
    producer = kafka.producer();
    await producer.connect();
    // About 100 records/s, steadily.
    producing$ = (async () => {
      for (let i = 0; producing; i++) {
        await producer.send({ topic: 'steady', messages: Array.from({ length: 10 }, (_, j) => ({ value: `r${i}-${j}` })) });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    consumer = kafka.consumer({ groupId: 'steady-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'steady', fromBeginning: true });
    // Commits by hand every 2 s (kafkajs' own auto-commit commits after every batch).
    let position = -1;
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        consumed++;
        position = Number(message.offset) + 1;
      },
    });
    committing = setInterval(() => {
      if (position >= 0) void consumer.commitOffsets([{ topic: 'steady', partition: 0, offset: String(position) }]).catch(() => {});
    }, 2000);
    const deadline = Date.now() + 30_000;
    while (consumed < 100) {
      if (Date.now() > deadline) throw new Error('the consumer did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);
  afterAll(async () => {
    clearInterval(committing);
    producing = false;
    await producing$;
    await consumer?.disconnect();
    await producer?.disconnect();
    await broker?.stop();
  });

  it('shows the consume rate near the produce rate and "keeping up", never 0/s and ∞', async () => {
    const child = spawnTracked(process.execPath, [KTS_BIN, 'consumer-groups', '--bootstrap-server', broker.bootstrap, '--describe', '--group', 'steady-group', '--watch', '0.5', '--output', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    type Offset = { currentOffset: number; logEndOffset: number; consumeRate: number | null; produceRate: number | null; lag: number; lagGrowing: boolean; keepingUp: boolean; timeToZeroLag: number | null };
    const ticks = (): { intervalSeconds: number | null; offsets: Offset[] }[] =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .map((t) => ({ intervalSeconds: t.intervalSeconds, offsets: t.groups[0]?.offsets ?? [] }));
    // 9 s of ticks: at least three commits of the consumer, and many ticks between them. The ticks
    // judged below start at the tenth, and three of them are needed: on a loaded machine a tick can
    // take longer than its 0.5 s, so wait for the count as well as the time.
    const settledFrom = Math.ceil(4.5 / 0.5) + 1;
    const deadline = Date.now() + 60_000;
    let firstAt = 0;
    while (true) {
      if (!firstAt && ticks().length > 0) firstAt = Date.now();
      if (firstAt && Date.now() - firstAt > 9000 && ticks().length >= settledFrom + 3) break;
      if (Date.now() > deadline) throw new Error(`too few ticks: ${stdout}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await stopProcess(child, 'SIGINT');
    const all = ticks();
    // Once two of its commits have been seen (after ~4.5 s), every tick measures the rate.
    const settled = all.slice(settledFrom).map((t) => t.offsets[0]);
    expect(settled.length).toBeGreaterThanOrEqual(3);
    // On a failure, every tick (seconds since the one before; committed, log end, rates, growing, keeping up) says what the watch saw.
    const series = all.map((t) => [t.intervalSeconds, ...t.offsets.map((o) => [o.currentOffset, o.logEndOffset, o.consumeRate, o.produceRate, o.lagGrowing, o.keepingUp])].join(' ')).join('\n');
    for (const o of settled) {
      expect(o.consumeRate, `${JSON.stringify(o)}\n${series}`).not.toBeNull();
      expect(o.consumeRate!, `${JSON.stringify(o)}\n${series}`).toBeGreaterThan(20);
      expect(o.lagGrowing, `${JSON.stringify(o)}\n${series}`).toBe(false);
    }
    // Between two commits the lag is only what came since the last one: keeping up.
    expect(settled.some((o) => o.lag > 0 && o.keepingUp), JSON.stringify(settled)).toBe(true);
    // And never "0 records/s with a growing lag" on any tick, first ones included.
    for (const t of all.slice(1)) for (const o of t.offsets) expect(o.consumeRate === 0 && o.lagGrowing, JSON.stringify(o)).toBe(false);
  }, 120_000);
});
