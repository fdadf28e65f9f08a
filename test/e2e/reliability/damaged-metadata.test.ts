// The broker's own bookkeeping files damaged while it was stopped: kts-metadata.json (partition
// counts, topics, ids, configs) and the offset checkpoints, each contradicting the partition
// directories on disk. The broker must refuse to start with one line naming the file and the
// contradiction, exit non-zero, and leave every file as it was (no partition dirs made, nothing
// deleted, the clean-shutdown marker kept). Kafka itself deletes every segment of a partition whose
// log-start checkpoint is past its log end; here that too is a refusal. (Damaged segments and
// indexes, which are repaired: damaged-files.test.ts.)
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, tempDir } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { createTopic, figure, produce, readPartition, startRefused, treeOf } from './support.js';

const PER_PARTITION = 200;
let fixture: string;

const metadataOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'kts-metadata.json'), 'utf8'));
const writeMetadata = (dir: string, doc: unknown) => writeFileSync(join(dir, 'kts-metadata.json'), JSON.stringify(doc, null, 2));
function editTopic(dir: string, topic: string, edit: (t: Record<string, unknown>) => void): void {
  const doc = metadataOf(dir);
  edit(doc.topics[topic]);
  writeMetadata(dir, doc);
}
function editCheckpoint(dir: string, name: string, edit: (lines: string[]) => string[]): void {
  const entries = readFileSync(join(dir, name), 'utf8').trim().split('\n').slice(2);
  const next = edit(entries);
  writeFileSync(join(dir, name), `0\n${next.length}\n${next.map((l) => `${l}\n`).join('')}`);
}

/** Each damage, and what the refusal must say (with `<dir>` for the data dir). */
const damages: Record<string, { damage: (dir: string) => void; says: string }> = {
  'partitions far above the directories (100000000)': {
    damage: (dir) => editTopic(dir, 'orders', (t) => (t.partitions = 100000000)),
    says: "<dir>/kts-metadata.json disagrees with the data on disk: topic 'orders' has 100000000 partitions, but 3 of them have a directory (missing: orders-3, orders-4, orders-5, ... (99999997 in all))",
  },
  'partitions 0': {
    damage: (dir) => editTopic(dir, 'orders', (t) => (t.partitions = 0)),
    says: "<dir>/kts-metadata.json: topic 'orders' has 0 partitions (a topic has a whole number of at least 1); refusing to start",
  },
  'fewer partitions than the directories holding records': {
    damage: (dir) => editTopic(dir, 'orders', (t) => (t.partitions = 2)),
    says: "<dir>/kts-metadata.json disagrees with the data on disk: topic 'orders' has 2 partition(s), but <dir>/orders-2 holds",
  },
  'negative partitions': {
    damage: (dir) => editTopic(dir, 'orders', (t) => (t.partitions = -3)),
    says: "topic 'orders' has -3 partitions",
  },
  'fractional partitions': {
    damage: (dir) => editTopic(dir, 'orders', (t) => (t.partitions = 2.5)),
    says: "topic 'orders' has 2.5 partitions",
  },
  'partitions as a string': {
    damage: (dir) => editTopic(dir, 'orders', (t) => (t.partitions = '3')),
    says: 'topic \'orders\' has "3" partitions',
  },
  'a topic with records missing from the file': {
    damage: (dir) => {
      const doc = metadataOf(dir);
      delete doc.topics.events;
      writeMetadata(dir, doc);
    },
    says: "<dir>/kts-metadata.json disagrees with the data on disk: <dir>/events-0 holds",
  },
  'no metadata file at all beside records': {
    damage: (dir) => rmSync(join(dir, 'kts-metadata.json')),
    says: '<dir>/kts-metadata.json is missing, but <dir>/',
  },
  'truncated metadata file': {
    damage: (dir) => {
      const text = readFileSync(join(dir, 'kts-metadata.json'), 'utf8');
      writeFileSync(join(dir, 'kts-metadata.json'), text.slice(0, text.length / 2));
    },
    says: '<dir>/kts-metadata.json: not valid JSON',
  },
  'two topics with one topic id': {
    damage: (dir) => {
      const doc = metadataOf(dir);
      doc.topics.events.topicId = doc.topics.orders.topicId;
      writeMetadata(dir, doc);
    },
    says: "topics 'orders' and 'events' have the same topic id",
  },
  'a topic id that is not one': {
    damage: (dir) => editTopic(dir, 'orders', (t) => (t.topicId = 'not-an-id')),
    says: 'topic \'orders\' has topic id "not-an-id"',
  },
  'a topic config that does not parse': {
    damage: (dir) => editTopic(dir, 'orders', (t) => (t.configs = { 'retention.ms': 'soon' })),
    says: "topic 'orders' config: Invalid value soon for configuration retention.ms",
  },
  'the log-start checkpoint past the log end': {
    damage: (dir) => editCheckpoint(dir, 'log-start-offset-checkpoint', (lines) => lines.map((l) => (l.startsWith('orders 1 ') ? 'orders 1 99999999' : l))),
    says: `<dir>/log-start-offset-checkpoint says orders-1 starts at offset 99999999, past its log end ${PER_PARTITION} (offsets 0..${PER_PARTITION - 1} in <dir>/orders-1); refusing to start`,
  },
  'a checkpoint naming a partition the topic does not have': {
    damage: (dir) => editCheckpoint(dir, 'log-start-offset-checkpoint', (lines) => [...lines, 'orders 7 0']),
    says: "<dir>/log-start-offset-checkpoint has orders-7, but topic 'orders' has 3 partition(s)",
  },
  'a checkpointed partition whose directory is gone': {
    damage: (dir) => rmSync(join(dir, 'quiet-0'), { recursive: true }),
    says: '<dir>/log-start-offset-checkpoint has quiet-0 (at offset 0), but its directory <dir>/quiet-0 is missing',
  },
  'a garbled log-start checkpoint': {
    damage: (dir) => writeFileSync(join(dir, 'log-start-offset-checkpoint'), '\x00\x17garbage'),
    says: `<dir>/log-start-offset-checkpoint unknown version line "\\u0000\\u0017garbage". It says where each partition's records start`,
  },
  'a truncated log-start checkpoint': {
    damage: (dir) => {
      const text = readFileSync(join(dir, 'log-start-offset-checkpoint'), 'utf8');
      writeFileSync(join(dir, 'log-start-offset-checkpoint'), text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1));
    },
    says: '<dir>/log-start-offset-checkpoint expected 5 entries, found 4',
  },
};

describe('a broker whose own files contradict its data dir', () => {
  beforeAll(async () => {
    fixture = tempDir('kts-damaged-metadata-');
    const broker = await spawnBroker({ dataDir: fixture });
    const raw = await RawClient.connect(broker.port);
    expect(await createTopic(raw, 'orders', 3)).toBe(0);
    expect(await createTopic(raw, 'events', 1)).toBe(0);
    expect(await createTopic(raw, 'quiet', 1)).toBe(0); // a partition without records
    for (const [topic, partitions] of [['orders', 3], ['events', 1]] as const) {
      for (let p = 0; p < partitions; p++) {
        for (let b = 0; b < PER_PARTITION / 20; b++) {
          const res = await produce(raw, topic, Array.from({ length: 20 }, (_, i) => `${topic}-${p}-${b * 20 + i}`), p);
          expect(res.errorCode).toBe(0);
        }
      }
    }
    raw.close();
    expect(await broker.stop('SIGTERM')).toBe(0);
    expect(existsSync(join(fixture, '.kafka_cleanshutdown'))).toBe(true);
  }, 60_000);

  for (const [kind, { damage, says }] of Object.entries(damages)) {
    it(`refuses ${kind}, naming the file, and changes nothing`, async () => {
      const dir = tempDir('kts-damaged-metadata-case-');
      cpSync(fixture, dir, { recursive: true });
      damage(dir);
      const before = treeOf(dir);
      const { code, output } = await startRefused(dir);
      expect(code).toBe(1);
      const fatal = output.split('\n').filter((l) => l.includes('Fatal error during startup'));
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toContain(says.replaceAll('<dir>', dir));
      expect(treeOf(dir)).toEqual(before);
      figure('damaged-metadata', `${kind}: ${fatal[0].slice(fatal[0].indexOf('Fatal error'))}`);
    }, 40_000);
  }

  it('starts on the undamaged files and serves every record (the fixture is sound)', async () => {
    const dir = tempDir('kts-damaged-metadata-case-');
    cpSync(fixture, dir, { recursive: true });
    const broker = await spawnBroker({ dataDir: dir });
    try {
      for (let p = 0; p < 3; p++) expect((await readPartition(broker.port, 'orders', p)).records.length).toBe(PER_PARTITION);
      expect((await readPartition(broker.port, 'events', 0)).records.length).toBe(PER_PARTITION);
    } finally {
      expect(await broker.stop('SIGTERM')).toBe(0);
    }
  }, 40_000);

  it('a recovery-point checkpoint past the log end is not trusted: every segment re-validated, every record served', async () => {
    const dir = tempDir('kts-damaged-metadata-case-');
    cpSync(fixture, dir, { recursive: true });
    editCheckpoint(dir, 'recovery-point-offset-checkpoint', (lines) => lines.map((l) => (l.startsWith('orders 1 ') ? 'orders 1 99999999' : l)));
    const broker = await spawnBroker({ dataDir: dir });
    try {
      expect(broker.output()).toContain(
        `[orders-1] ${dir}/recovery-point-offset-checkpoint says offsets up to 99999999 were flushed, but the segment files end at ${PER_PARTITION}; not trusting it: recovering every segment`,
      );
      const { records } = await readPartition(broker.port, 'orders', 1);
      expect(records.map((r) => r.value)).toEqual(Array.from({ length: PER_PARTITION }, (_, i) => `orders-1-${i}`));
    } finally {
      expect(await broker.stop('SIGTERM')).toBe(0);
    }
  }, 40_000);
});
