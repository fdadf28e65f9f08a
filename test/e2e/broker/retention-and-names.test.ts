// Retention deletes whole old segments and moves the log start offset: a fetch below it gets
// OFFSET_OUT_OF_RANGE and a consumer resets per auto.offset.reset. Topic names follow Kafka's
// rules and nothing is ever written outside log.dirs.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';
import { kcat } from '../../helpers/kcat.js';
import { kcatPath } from '../../helpers/tools.js';
import { ErrorCode } from '../../../src/protocol/errors.js';

describe('retention', () => {
  let broker: SpawnedBroker;
  beforeAll(async () => {
    broker = await spawnBroker({ overrides: { 'log.retention.check.interval.ms': '200', 'log.segment.delete.delay.ms': '0' } });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('deletes old segments; a fetch below the log start gets OFFSET_OUT_OF_RANGE; consumers reset', async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: 'short-lived', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '1024' }, { name: 'retention.ms', value: '-1' }] }],
    });
    const producer = kafka.producer();
    await producer.connect();
    // Old records (timestamps an hour ago) fill several 1 KiB segments; retention removes them.
    const old = String(Date.now() - 3_600_000);
    for (let i = 0; i < 20; i++) {
      await producer.send({ topic: 'short-lived', messages: [{ value: `old-${i}-${'x'.repeat(200)}`, timestamp: old }] });
    }
    const segmentsBefore = readdirSync(join(broker.dataDir, 'short-lived-0')).filter((f) => f.endsWith('.log')).length;
    expect(segmentsBefore).toBeGreaterThan(3);
    // Only now does retention apply (set while producing, it could delete segments mid-count).
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'short-lived', configEntries: [{ name: 'retention.ms', value: '1500' }] }],
    });

    // The log start offset moves at once; the segment files are renamed *.deleted just after, so
    // both are polled for.
    const segmentFiles = () => readdirSync(join(broker.dataDir, 'short-lived-0')).filter((f) => f.endsWith('.log')).length;
    let low = '0';
    let segmentsAfter = segmentsBefore;
    for (const deadline = Date.now() + 20_000; (low === '0' || segmentsAfter >= segmentsBefore) && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 200));
      low = (await admin.fetchTopicOffsets('short-lived'))[0].low;
      segmentsAfter = segmentFiles();
    }
    expect(Number(low)).toBeGreaterThan(0);
    expect(segmentsAfter).toBeLessThan(segmentsBefore);

    await producer.send({ topic: 'short-lived', messages: [{ value: 'fresh' }] });
    await producer.disconnect();
    await admin.disconnect();

    const raw = await RawClient.connect(broker.port);
    const res = await raw.request(1, 11, fetchBody('short-lived', [{ partition: 0, offset: 0 }]));
    const p = res.responses[0].partitions[0];
    expect(p.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(p.logStartOffset).toBeGreaterThan(0);
    raw.close();

    if (kcatPath()) {
      // librdkafka asked for offset 0 resets to the earliest retained record.
      const out = await kcat(['-b', broker.bootstrap, '-C', '-t', 'short-lived', '-p', '0', '-o', '0', '-e', '-q', '-X', 'auto.offset.reset=earliest', '-f', '%o %s\n']);
      const lines = out.trim().split('\n');
      expect(Number(lines[0].split(' ')[0])).toBeGreaterThanOrEqual(p.logStartOffset);
      expect(lines.at(-1)).toMatch(/ fresh$/);
    }
  });
});

describe('topic names', () => {
  let broker: SpawnedBroker;
  let root: string;
  beforeAll(async () => {
    root = tempDir('kts-names-');
    broker = await spawnBroker({ dataDir: join(root, 'data') });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('refuses ../x, ., .., illegal characters and over-long names with INVALID_TOPIC_EXCEPTION; writes nothing outside log.dirs', async () => {
    const raw = await RawClient.connect(broker.port);
    const names = ['../x', '.', '..', 'a/b', 'with space', 'x'.repeat(250), '..\\evil'];
    const res = await raw.request(19, 4, {
      topics: names.map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })),
      timeoutMs: 5000,
      validateOnly: false,
    });
    for (const t of res.topics) expect([t.name, t.errorCode]).toEqual([t.name, ErrorCode.INVALID_TOPIC_EXCEPTION]);
    // Metadata auto-creation takes the same path.
    const meta = await raw.request(3, 4, { topics: [{ name: '../y' }], allowAutoTopicCreation: true });
    expect(meta.topics[0].errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    raw.close();
    expect(readdirSync(root)).toEqual(['data']);
    expect(existsSync(join(dirname(root), 'x-0'))).toBe(false);
    // `.lock` is the broker's own (the log dir lock); any other dot entry would be a topic dir.
    expect(readdirSync(join(root, 'data')).filter((f) => f !== '.lock' && (f.includes('x-') || f.startsWith('.')))).toEqual([]);
  });
});
