// Storage measurements, not part of `npm test` (they write ~1.5 GB); vitest.config.ts includes
// *.measure.ts files only when asked:
//   KTS_STORAGE_MEASURE=1 npx vitest run test/unit/storage/storage.measure.ts
// Prints append throughput of 1 MiB produce-sized buffers and random-offset read latency.
import { describe, expect, it } from 'vitest';
import { type LogConfig, defaultLogConfig } from '../../../src/storage/index.js';
import { LogManager } from '../../../src/storage/log-manager.js';
import { buildBatch, makeTempDir } from './helpers.js';

const config: LogConfig = { ...defaultLogConfig, maxMessageBytes: 2 << 20, retentionMs: -1 };
const quiet = { info() {}, warn: console.warn, error: console.error };
const record = (i: number, size: number) => ({ value: Buffer.alloc(size, i & 0xff), key: `k${i}` });

async function withLog<T>(fn: (log: import('../../../src/storage/index.js').PartitionLog) => Promise<T>): Promise<T> {
  const { dir, cleanup } = await makeTempDir();
  const manager = await LogManager.open({ logDirs: [dir], defaults: config, logger: quiet });
  try {
    return await fn(await manager.create('measure', 0));
  } finally {
    await manager.close();
    await cleanup();
  }
}

async function appendThroughput(label: string, buf: Buffer, totalBytes: number): Promise<void> {
  await withLog(async (log) => {
    const n = Math.ceil(totalBytes / buf.length);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await log.append(buf);
    const t1 = performance.now();
    await log.flush();
    const t2 = performance.now();
    const mib = (n * buf.length) / 1048576;
    console.log(
      `append ${label}: ${mib.toFixed(0)} MiB in ${(t1 - t0).toFixed(0)} ms = ${(mib / ((t1 - t0) / 1000)).toFixed(0)} MiB/s ` +
        `(${(mib / ((t2 - t0) / 1000)).toFixed(0)} MiB/s including the final fdatasync)`,
    );
  });
}

async function readLatency(records: number): Promise<void> {
  await withLog(async (log) => {
    const batch = buildBatch(Array.from({ length: 10 }, (_, i) => record(i, 100)));
    const chunk = Buffer.concat(Array.from({ length: 500 }, () => batch));
    while (log.logEndOffset < records) await log.append(Buffer.from(chunk));
    for (const maxBytes of [64 * 1024, 1 << 20]) {
      const micros: number[] = [];
      let x = 42;
      for (let i = 0; i < 5000; i++) {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        const t0 = performance.now();
        const { records: got } = await log.read(x % log.logEndOffset, maxBytes);
        micros.push((performance.now() - t0) * 1000);
        expect(got.length).toBeGreaterThan(0);
      }
      micros.sort((a, b) => a - b);
      const q = (p: number) => micros[Math.floor(p * (micros.length - 1))].toFixed(0);
      console.log(
        `read ${log.logEndOffset.toLocaleString('en')} records (${(log.size / 1048576).toFixed(0)} MiB), random offset, ` +
          `maxBytes ${maxBytes / 1024} KiB: p50 ${q(0.5)} us, p99 ${q(0.99)} us`,
      );
    }
  });
}

describe('storage measurements', () => {
  it('append throughput', async () => {
    await appendThroughput('warm-up', buildBatch([record(0, 10)]), 1 << 20);
    const big = buildBatch(Array.from({ length: 1000 }, (_, i) => record(i, 1024)));
    await appendThroughput('1 MiB = 1 batch of 1000 x 1 KiB records', big, 512 << 20);
    const b16 = buildBatch(Array.from({ length: 140 }, (_, i) => record(i, 100)));
    const many = Buffer.concat(Array.from({ length: Math.floor((1 << 20) / b16.length) }, () => b16));
    await appendThroughput('1 MiB = 64 batches of 16 KiB (100 B records)', many, 512 << 20);
    const compressed = buildBatch(Array.from({ length: 1000 }, (_, i) => record(i, 1)), { compression: 1, body: Buffer.alloc(1 << 20, 7) });
    await appendThroughput('1 MiB = 1 compressed batch', compressed, 512 << 20);
  }, 300_000);

  it('random-offset read latency, 10k vs 1M records', async () => {
    await readLatency(10_000);
    await readLatency(1_000_000);
  }, 300_000);
});
