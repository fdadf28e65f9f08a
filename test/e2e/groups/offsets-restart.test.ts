// (4) Committed offsets survive broker restarts (a clean stop and a kill -9), and
// `consumer-groups --describe` shows the exact CURRENT-OFFSET, LOG-END-OFFSET and LAG.
// (5) `--reset-offsets --to-earliest --execute` on the emptied group: a restarted member reads
// the topic again from the start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { consumerGroups, createTopic, kafkaFor, produceEach, startTestBroker, trackedConsumer, waitFor, type TestBroker } from './support.js';

describe('committed offsets across restarts, and the consumer-groups tool', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  const topic = 'ledger';
  const group = 'ledger-readers';

  const restart = async (how: 'stop' | 'kill9') => {
    const { dataDir, port } = broker;
    if (how === 'stop') await broker.stop();
    else await broker.kill9();
    broker = await startTestBroker({ dataDir, port });
    kafka = kafkaFor(broker.bootstrap);
  };

  const committed = async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const r = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      return r[0].partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    broker = await startTestBroker();
    kafka = kafkaFor(broker.bootstrap);
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('keeps commits through a clean restart and a kill -9; --describe shows exact offsets and lag', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await createTopic(admin, topic, 3);
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await produceEach(producer, topic, 3, 10);

    // A member reads everything, commits exactly 10/10/10 and leaves.
    const c = await trackedConsumer(kafka, 'reader', group, topic);
    await waitFor('30 records', () => c.records.length >= 30);
    await waitFor('commits of 10/10/10', async () => (await committed()).join() === '10,10,10');
    await c.consumer.disconnect();
    // More records arrive while nobody reads: lag 5 / 2 / 0.
    await producer.send({ topic, messages: [...Array(5)].map((_, i) => ({ partition: 0, value: `late-${i}` })) });
    await producer.send({ topic, messages: [...Array(2)].map((_, i) => ({ partition: 1, value: `late-${i}` })) });
    await producer.disconnect();

    await restart('stop');
    expect(await committed()).toEqual([10, 10, 10]);
    await restart('kill9');
    expect(await committed()).toEqual([10, 10, 10]);

    const d = await consumerGroups(['--bootstrap-server', broker.bootstrap, '--describe', '--group', group]);
    expect(d.code).toBe(0);
    expect(d.stderr).toContain(`\nConsumer group '${group}' has no active members.`);
    const header = 'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID';
    const line = (p: number, cur: number, end: number) =>
      `${group}  ${topic}          ${String(p).padEnd(10)} ${String(cur).padEnd(15)} ${String(end).padEnd(15)} ${String(end - cur).padEnd(15)} -               -               -`;
    expect(d.stdout).toBe(`\n${header}\n${line(0, 10, 15)}\n${line(1, 10, 12)}\n${line(2, 10, 10)}\n`);
    console.log(`[groups] restart: commits 10/10/10 intact after SIGTERM restart and kill -9 restart; describe lag 5/2/0:\n${d.stdout}`);
  });

  it('--reset-offsets --to-earliest --execute makes a restarted member read from the start', async () => {
    const dry = await consumerGroups(['--bootstrap-server', broker.bootstrap, '--reset-offsets', '--group', group, '--topic', topic, '--to-earliest', '--dry-run']);
    expect(dry.code).toBe(0);
    const table = (o: number) =>
      `\nGROUP                          TOPIC                          PARTITION  NEW-OFFSET     \n` +
      [0, 1, 2].map((p) => `${group.padEnd(30)} ${topic.padEnd(30)} ${String(p).padEnd(10)} ${String(o).padEnd(15)}\n`).join('');
    expect(dry.stdout).toBe(table(0));
    expect(await committed()).toEqual([10, 10, 10]);

    const exec = await consumerGroups(['--bootstrap-server', broker.bootstrap, '--reset-offsets', '--group', group, '--topic', topic, '--to-earliest', '--execute']);
    expect(exec.code).toBe(0);
    expect(exec.stdout).toBe(table(0));
    expect(await committed()).toEqual([0, 0, 0]);

    const again = await trackedConsumer(kafka, 'rereader', group, topic);
    await waitFor('all 37 records again', () => again.records.length >= 37);
    const byPartition = [0, 1, 2].map((p) => again.records.filter((r) => r.partition === p).map((r) => r.offset));
    expect(byPartition.map((o) => o[0])).toEqual([0, 0, 0]);
    expect(byPartition.map((o) => o.length)).toEqual([15, 12, 10]);

    // While it runs, a reset is refused (exit 0, message on stdout, as Kafka).
    await waitFor('group stable', async () => (await consumerGroups(['--bootstrap-server', broker.bootstrap, '--describe', '--group', group, '--state'])).stdout.includes('Stable'));
    const refused = await consumerGroups(['--bootstrap-server', broker.bootstrap, '--reset-offsets', '--group', group, '--all-topics', '--to-latest', '--execute']);
    expect(refused.code).toBe(0);
    expect(refused.stdout).toContain(`\nError: Assignments can only be reset if the group '${group}' is inactive, but the current state is Stable.\n`);
    const members = await consumerGroups(['--bootstrap-server', broker.bootstrap, '--describe', '--group', group, '--members', '--verbose']);
    expect(members.stdout).toMatch(new RegExp(`^\\nGROUP {11}CONSUMER-ID +HOST +CLIENT-ID +#PARTITIONS {5}ASSIGNMENT\\n${group} +kts-groups-test-[0-9a-f-]+ /127\\.0\\.0\\.1 +kts-groups-test +3 {15}${topic}\\(0,1,2\\)\\n$`));
    await again.consumer.disconnect();
    console.log(`[groups] reset: committed 10/10/10 -> 0/0/0; restarted member re-read ${again.records.length} records from offset 0`);
  });
});
