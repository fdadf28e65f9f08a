// A start that fails after the data dir is locked and the logs are open (here: the group
// coordinator cannot load __consumer_offsets, whose batch passes its CRC-32C but claims a codec its
// bytes are not in) must exit non-zero with one line naming the partition, and leave the directory
// released and as it was: no .lock left behind, the clean-shutdown marker and checkpoints of the
// last clean stop in place (so the next start does not re-validate every segment), nothing else
// written; the same embedded (startBroker), where no process exit removes the lock. Then, with the
// batch repaired, the broker starts and has every record and offset.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { startBroker } from '../../../src/broker/index.js';
import { crc32c } from '../../../src/protocol/records/crc.js';
import { createTopic, figure, produce, readPartition, startRefused, treeOf } from './support.js';

const ATTRIBUTES = 21;
const CRC = 17;

describe('a start that fails while loading the group coordinator', () => {
  let broker: SpawnedBroker | undefined;
  afterAll(async () => {
    await broker?.kill9();
  });

  it('exits non-zero with one line, releases the lock and leaves the directory as it was', async () => {
    broker = await spawnBroker();
    const dataDir = broker.dataDir;
    const raw = await RawClient.connect(broker.port);
    expect(await createTopic(raw, 'orders', 1)).toBe(0);
    for (let i = 0; i < 10; i++) expect((await produce(raw, 'orders', [`o${i}`])).errorCode).toBe(0);
    raw.close();
    const admin = new Kafka({ clientId: 'failed-start', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.setOffsets({ groupId: 'billing', topic: 'orders', partitions: [{ partition: 0, offset: '7' }] });
    await admin.disconnect();
    expect(await broker.stop()).toBe(0);

    // The first batch of the __consumer_offsets partition that holds the commit: its attributes say
    // gzip (its bytes are not), and its CRC-32C is recomputed, so recovery keeps it as valid.
    const partitionDir = readdirSync(dataDir)
      .filter((d) => d.startsWith('__consumer_offsets-'))
      .find((d) => statSync(join(dataDir, d, '00000000000000000000.log')).size > 0)!;
    expect(partitionDir).toBeDefined();
    const segment = join(dataDir, partitionDir, '00000000000000000000.log');
    const bytes = readFileSync(segment);
    const size = 12 + bytes.readInt32BE(8);
    const pristine = Buffer.from(bytes);
    bytes.writeInt16BE(bytes.readInt16BE(ATTRIBUTES) | 1, ATTRIBUTES);
    bytes.writeUInt32BE(crc32c(bytes, ATTRIBUTES, size), CRC);
    writeFileSync(segment, bytes);

    const before = treeOf(dataDir);
    expect(existsSync(join(dataDir, '.kafka_cleanshutdown'))).toBe(true);
    const { code, output } = await startRefused(dataDir);
    expect(code, output).toBe(1);
    const fatal = output.split('\n').filter((l) => l.includes('Fatal error during startup'));
    expect(fatal, output).toHaveLength(1);
    expect(fatal[0]).toContain(partitionDir);
    expect(existsSync(join(dataDir, '.lock')), output).toBe(false);
    expect(treeOf(dataDir), output).toEqual(before);

    // Embedded (startBroker in this process, no exit hook to clean up): the same refusal, twice, so
    // the first released its lock; the directory still as it was.
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(startBroker({ dataDir, host: '127.0.0.1', port: await freePort(), logLevel: 'error' })).rejects.toThrow(
        `cannot load the groups of ${partitionDir}`,
      );
      expect(existsSync(join(dataDir, '.lock'))).toBe(false);
    }
    expect(treeOf(dataDir)).toEqual(before);

    // Repaired: the broker starts on the same directory without recovering anything.
    writeFileSync(segment, pristine);
    broker = await spawnBroker({ dataDir });
    expect(broker.output()).not.toMatch(/recovered \d+ segment/);
    expect((await readPartition(broker.port, 'orders')).records.map((r) => r.value)).toEqual(Array.from({ length: 10 }, (_, i) => `o${i}`));
    const admin2 = new Kafka({ clientId: 'failed-start', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin2.connect();
    const offsets = await admin2.fetchOffsets({ groupId: 'billing', topics: ['orders'] });
    await admin2.disconnect();
    expect(offsets[0].partitions[0].offset).toBe('7');
    figure('failed-start', fatal[0].replace(/^.*Fatal error during startup: /, ''));
  }, 120_000);
});
