// `kts transactions` against Kafka 4.4's own kafka-transactions.sh (TransactionsCommand), both run
// against the same kts broker: list and describe print the same bytes (describe's running time,
// TransactionDurationMs, is the one cell that depends on when each ran), and a transactional id
// the coordinator does not know fails the same way. describe-producers prints the same table from
// the partition leader's producer state (DescribeProducers), and abort --start-offset finds the
// producer whose open transaction starts there and aborts it, as Kafka's tool does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { KAFKA_4, kafkaLib, runKafkaTool } from '../../helpers/real-kafka.js';
import { kts } from '../cli/support.js';
import { pollUntil, RawTxnClient, storedBatches } from './support.js';
import { Kafka, logLevel } from 'kafkajs';

/** The describe table's cells, padding kept, with the duration column (value and header, whose width follows the value) blanked. */
function withoutDuration(table: string): string[][] {
  return table
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t').map((cell, i) => (i === 7 ? '<duration>' : cell)));
}

describe.skipIf(!kafkaLib(KAFKA_4))('kts transactions and Kafka 4.4 kafka-transactions.sh', () => {
  let broker: SpawnedBroker;
  let raw: RawTxnClient;
  beforeAll(async () => {
    // The hanging transactions find-hanging must find are made as Kafka lets them be made: with the
    // leader's verification of transactional batches off (KIP-890, on by default), a producer's batch
    // for a partition its coordinator never added opens a transaction no marker will end.
    broker = await spawnBroker({ overrides: { 'transaction.partition.verification.enable': 'false' } });
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] });
    await admin.disconnect();
    raw = await RawTxnClient.connect(broker.port);
    // One open transaction over three partitions, one committed, one never used.
    const open = await raw.init('open-txn', 300_000);
    expect(await raw.addPartitions('open-txn', open.producerId, 0, 'orders', [2, 0, 1])).toEqual([0, 0, 0]);
    const done = await raw.init('done-txn');
    expect(await raw.addPartitions('done-txn', done.producerId, 0, 'orders', [1])).toEqual([0]);
    expect(await raw.endTxn('done-txn', done.producerId, 0, true)).toBe(0);
    // EndTxn answers once PrepareCommit is written (as Kafka); the markers and CompleteCommit follow.
    await pollUntil(() => raw.describe('done-txn'), (d) => d.transactionState === 'CompleteCommit', 30_000, 'done-txn to complete');
    expect((await raw.init('fresh-txn')).errorCode).toBe(0);
  });
  afterAll(async () => {
    raw?.close();
    await broker?.stop();
  });

  const both = async (args: string[]) => {
    const [ours, theirs] = await Promise.all([kts(['transactions', '--bootstrap-server', broker.bootstrap, ...args], { timeoutMs: 60_000 }), runKafkaTool(KAFKA_4, 'transactions', ['--bootstrap-server', broker.bootstrap, ...args], { timeoutMs: 120_000 })]);
    return { ours, theirs };
  };

  it('list: the same table', async () => {
    const { ours, theirs } = await both(['list']);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
    expect(ours.stdout.split('\n').filter(Boolean).length).toBe(4);
  }, 150_000);

  it('describe: the same table (partitions in Java HashSet order), an Empty id printing None for its start', async () => {
    for (const id of ['open-txn', 'fresh-txn', 'done-txn']) {
      const { ours, theirs } = await both(['describe', '--transactional-id', id]);
      expect(theirs.code, theirs.stderr).toBe(0);
      expect(ours.code, ours.stderr).toBe(0);
      expect(withoutDuration(ours.stdout)).toEqual(withoutDuration(theirs.stdout));
    }
    const { ours } = await both(['describe', '--transactional-id', 'open-txn']);
    expect(ours.stdout).toMatch(/orders-\d,orders-\d,orders-\d/);
  }, 300_000);

  it('describe of an unknown transactional id: the same message on stderr, exit 1', async () => {
    const { ours, theirs } = await both(['describe', '--transactional-id', 'nobody']);
    expect(theirs.code).toBe(1);
    expect(ours.code).toBe(1);
    const lastLine = (s: string) => s.trim().split('\n').filter((l) => !/ERROR Reconfiguration|log4j/.test(l)).pop();
    expect(lastLine(ours.stderr)).toBe(lastLine(theirs.stderr));
    expect(ours.stdout).toBe('');
  }, 150_000);

  it('--output json', async () => {
    const r = await kts(['transactions', '--bootstrap-server', broker.bootstrap, '--output', 'json', 'list']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.transactions.map((t: { transactionalId: string; state: string }) => `${t.transactionalId}:${t.state}`).sort()).toEqual(['done-txn:CompleteCommit', 'fresh-txn:Empty', 'open-txn:Ongoing']);
  });

  it('abort with --producer-id/--producer-epoch/--coordinator-epoch: an ABORT marker from the leader, nothing printed; the same refusals', async () => {
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'hanging', numPartitions: 2 }] });
    await admin.disconnect();
    const { producerId } = await raw.init('hang-1', 300_000);
    expect(await raw.addPartitions('hang-1', producerId, 0, 'hanging', [0, 1])).toEqual([0, 0]);
    for (const p of [0, 1]) expect((await raw.produce('hang-1', producerId, 0, 'hanging', p, 0, [`stuck-${p}`])).errorCode).toBe(0);

    const abortArgs = (partition: number) => ['abort', '--topic', 'hanging', '--partition', String(partition), '--producer-id', String(producerId), '--producer-epoch', '0', '--coordinator-epoch', '0'];
    const ours = await kts(['transactions', '--bootstrap-server', broker.bootstrap, ...abortArgs(0)]);
    const theirs = await runKafkaTool(KAFKA_4, 'transactions', ['--bootstrap-server', broker.bootstrap, ...abortArgs(1)], { timeoutMs: 120_000 });
    expect(ours.code, ours.stderr).toBe(0);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
    expect(ours.stdout).toBe('');
    for (const p of [0, 1]) {
      const batches = await storedBatches(broker.port, 'hanging', p);
      expect(batches.map((b) => [b.marker ?? b.values.join(), b.producerId, b.producerEpoch])).toEqual([
        [`stuck-${p}`, producerId, 0],
        ['ABORT', producerId, 0],
      ]);
    }

    const lastLine = (s: string) => s.trim().split('\n').filter((l) => !/ERROR Reconfiguration|log4j/.test(l)).pop();
    for (const args of [
      ['abort', '--topic', 'hanging', '--partition', '0'],
      ['abort', '--topic', 'hanging', '--partition', '0', '--producer-id', String(producerId), '--coordinator-epoch', '0'],
      ['abort', '--topic', 'hanging', '--partition', '0', '--producer-id', String(producerId), '--producer-epoch', '0'],
    ]) {
      const [o, t] = await Promise.all([kts(['transactions', '--bootstrap-server', broker.bootstrap, ...args]), runKafkaTool(KAFKA_4, 'transactions', ['--bootstrap-server', broker.bootstrap, ...args], { timeoutMs: 120_000 })]);
      expect([o.code, lastLine(o.stderr)], args.join(' ')).toEqual([t.code, lastLine(t.stderr)]);
    }
  }, 300_000);

  it('describe-producers: the same table; abort --start-offset aborts the transaction open there; the same refusals', async () => {
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'producers', numPartitions: 2 }] });
    await admin.disconnect();
    const open = await raw.init('dp-open', 300_000);
    expect(await raw.addPartitions('dp-open', open.producerId, 0, 'producers', [0, 1])).toEqual([0, 0]);
    for (const p of [0, 1]) expect((await raw.produce('dp-open', open.producerId, 0, 'producers', p, 0, [`open-${p}a`, `open-${p}b`])).errorCode).toBe(0);
    const done = await raw.init('dp-done', 300_000);
    expect(await raw.addPartitions('dp-done', done.producerId, 0, 'producers', [0])).toEqual([0]);
    expect((await raw.produce('dp-done', done.producerId, 0, 'producers', 0, 0, ['done-0'])).errorCode).toBe(0);
    expect(await raw.endTxn('dp-done', done.producerId, 0, true)).toBe(0);
    const plain = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer({ idempotent: true });
    await plain.connect();
    await plain.send({ topic: 'producers', messages: [{ value: 'idempotent', partition: 0 }] });
    await plain.disconnect();

    const { ours, theirs } = await both(['describe-producers', '--topic', 'producers', '--partition', '0']);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
    const rows = ours.stdout.trim().split('\n').map((l) => l.split('\t').map((c) => c.trim()));
    expect(rows[0]).toEqual(['ProducerId', 'ProducerEpoch', 'LatestCoordinatorEpoch', 'LastSequence', 'LastTimestamp', 'CurrentTransactionStartOffset', '']);
    const byId = new Map(rows.slice(1).map((r) => [Number(r[0]), r]));
    expect(byId.size).toBe(3);
    expect(byId.get(open.producerId)!.slice(1, 4).concat(byId.get(open.producerId)![5])).toEqual(['0', '-1', '1', '0']);
    expect(byId.get(done.producerId)![5]).toBe('None');
    expect(byId.get(done.producerId)![2]).not.toBe('-1'); // the coordinator epoch of its COMMIT marker

    const lastLine = (s: string) => s.trim().split('\n').filter((l) => !/ERROR Reconfiguration|log4j/.test(l)).pop();
    // (An unknown partition is not compared: Kafka's admin client retries its metadata lookup until the 60 s timeout.)
    for (const args of [['abort', '--topic', 'producers', '--partition', '0', '--start-offset', '99']]) {
      const [o, t] = await Promise.all([kts(['transactions', '--bootstrap-server', broker.bootstrap, ...args]), runKafkaTool(KAFKA_4, 'transactions', ['--bootstrap-server', broker.bootstrap, ...args], { timeoutMs: 120_000 })]);
      expect([o.code, lastLine(o.stderr)], args.join(' ')).toEqual([t.code, lastLine(t.stderr)]);
    }

    const startAt = (partition: number) => ['abort', '--topic', 'producers', '--partition', String(partition), '--start-offset', '0'];
    const [o, t] = await Promise.all([kts(['transactions', '--bootstrap-server', broker.bootstrap, ...startAt(0)]), runKafkaTool(KAFKA_4, 'transactions', ['--bootstrap-server', broker.bootstrap, ...startAt(1)], { timeoutMs: 120_000 })]);
    expect(o.code, o.stderr).toBe(0);
    expect(t.code, t.stderr).toBe(0);
    expect(o.stdout).toBe(t.stdout);
    for (const p of [0, 1]) {
      const batches = await storedBatches(broker.port, 'producers', p);
      expect(batches.filter((b) => b.producerId === open.producerId).map((b) => b.marker ?? b.values.join())).toEqual([`open-${p}a,open-${p}b`, 'ABORT']);
    }
    const after = await kts(['transactions', '--bootstrap-server', broker.bootstrap, 'describe-producers', '--topic', 'producers', '--partition', '1']);
    expect(after.stdout.trim().split('\n')[1].split('\t')[5].trim()).toBe('None');
  }, 300_000);

  it('find-hanging: the same table and exit codes as Kafka 4.4\'s tool (by broker, topic, partition, timeout), and the same refusals', async () => {
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'fh', numPartitions: 3 }] });
    await admin.disconnect();
    // A transaction the coordinator knows with fh-1, whose producer also wrote into fh-0 without
    // adding it (a partition its coordinator will never send a marker to: hanging) ...
    const known = await raw.init('fh-known', 300_000);
    expect(await raw.addPartitions('fh-known', known.producerId, 0, 'fh', [1])).toEqual([0]);
    for (const p of [1, 0]) expect((await raw.produce('fh-known', known.producerId, 0, 'fh', p, 0, [`known-${p}`])).errorCode).toBe(0);
    // ... and a producer id no coordinator has: its open transaction in fh-2 hangs too.
    const orphan = await raw.raw.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    expect(orphan.errorCode).toBe(0);
    expect((await raw.produce('fh-orphan', Number(orphan.producerId), 0, 'fh', 2, 0, ['orphan'])).errorCode).toBe(0);

    const rowsOf = (table: string) => table.trim().split('\n').slice(1).map((l) => l.split('\t').map((c) => c.trim()).slice(0, 3).join(' '));
    for (const args of [
      ['--broker-id', '0', '--max-transaction-timeout', '0'],
      ['--topic', 'fh', '--max-transaction-timeout', '0'],
      ['--topic', 'fh', '--partition', '0', '--max-transaction-timeout', '0'],
      ['--topic', 'fh', '--partition', '1', '--max-transaction-timeout', '0'],
      ['--broker-id', '0'],
    ]) {
      const { ours, theirs } = await both(['find-hanging', ...args]);
      expect(theirs.code, `${args.join(' ')}: ${theirs.stderr}`).toBe(0);
      expect(ours.code, ours.stderr).toBe(0);
      expect(ours.stdout, args.join(' ')).toBe(theirs.stdout);
    }
    const { ours } = await both(['find-hanging', '--topic', 'fh', '--max-transaction-timeout', '0']);
    expect(rowsOf(ours.stdout).sort()).toEqual([`fh 0 ${known.producerId}`, `fh 2 ${orphan.producerId}`]);
    expect(ours.stdout.split('\n')[0].split('\t').map((c) => c.trim())).toEqual(['Topic', 'Partition', 'ProducerId', 'ProducerEpoch', 'CoordinatorEpoch', 'StartOffset', 'LastTimestamp', 'Duration(min)', '']);
    const json = await kts(['transactions', '--bootstrap-server', broker.bootstrap, '--output', 'json', 'find-hanging', '--topic', 'fh', '--partition', '2', '--max-transaction-timeout', '0']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).hangingTransactions).toMatchObject([{ topic: 'fh', partition: 2, producerId: Number(orphan.producerId), producerEpoch: 0, startOffset: 0, durationMinutes: 0 }]);

    const lastLine = (s: string) => s.trim().split('\n').filter((l) => !/ERROR Reconfiguration|log4j/.test(l)).pop();
    for (const args of [[], ['--partition', '0', '--broker-id', '0'], ['--topic', 'no-such-topic']]) {
      const { ours: o, theirs: t } = await both(['find-hanging', ...args]);
      expect([o.code, lastLine(o.stderr), o.stdout], args.join(' ')).toEqual([t.code, lastLine(t.stderr), t.stdout]);
    }
  }, 300_000);
});
