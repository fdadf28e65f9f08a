// librdkafka (kcat) with each codec: 5,000 records round-trip exactly, and the segment on disk holds
// batches compressed with that codec (the broker stores the producer's batches as they came).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { kcat, run } from '../../helpers/kcat.js';
import { kcatPath } from '../../helpers/tools.js';
import { storedBatches } from './disk.js';

const hasKcat = kcatPath() !== null;
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

describe.skipIf(!hasKcat)('kcat -X compression.codec=… against kts', () => {
  let broker: SpawnedBroker;
  beforeAll(async () => {
    broker = await spawnBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('librdkafka enables compression, zstd and idempotence from our ApiVersions', async () => {
    const r = await run(kcatPath()!, ['-b', broker.bootstrap, '-P', '-t', 'features', '-X', 'debug=feature', '-X', 'enable.idempotence=true'], {
      input: 'x\n',
    });
    expect(r.code).toBe(0);
    for (const feature of ['MsgVer2', 'LZ4', 'ZSTD', 'IdempotentProducer']) expect(r.stderr).toContain(`Enabling feature ${feature}`);
    expect(r.stderr).not.toMatch(/Disabling feature (MsgVer2|LZ4|ZSTD|IdempotentProducer)/);
  });

  for (const [i, codec] of CODECS.entries()) {
    it(`${codec}: 5,000 records round-trip exactly and are stored ${codec}-compressed`, async () => {
      const topic = `codec-${codec}`;
      const lines = Array.from({ length: 5000 }, (_, n) => `${codec} record ${n} ${'payload '.repeat(n % 20)}`);
      await kcat(['-b', broker.bootstrap, '-P', '-t', topic, '-X', `compression.codec=${codec}`, '-X', 'linger.ms=50'], {
        input: lines.join('\n') + '\n',
        timeoutMs: 60_000,
      });
      const out = await kcat(['-b', broker.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q'], { timeoutMs: 60_000 });
      expect(out.split('\n').filter(Boolean)).toEqual(lines);
      const batches = storedBatches(broker.dataDir, topic, 0);
      expect(batches.length).toBeGreaterThan(0);
      // librdkafka sends a batch uncompressed when compressing would not shrink it (one or two short
      // records: a busy machine can leave kcat a linger window with little read from stdin), so a
      // few uncompressed records may come first; every other batch is stored with the codec.
      const codecs = new Set(batches.map((b) => b.codec));
      codecs.delete(0);
      expect(codecs).toEqual(new Set([i + 1]));
      const uncompressed = batches.filter((b) => b.codec === 0).reduce((n, b) => n + b.recordCount, 0);
      expect(uncompressed).toBeLessThanOrEqual(20);
      expect(batches.reduce((n, b) => n + b.recordCount, 0)).toBe(5000);
    });
  }
});
