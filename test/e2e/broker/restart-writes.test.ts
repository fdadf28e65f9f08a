// A restart rewrites nothing it would write unchanged: meta.properties and the log dir's checkpoints
// keep their bytes (each rewrite is a write, an fdatasync and a directory fsync on the start path).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBroker } from '../../../src/broker/index.js';
import { tempDir } from '../../helpers/broker.js';

describe('broker restart', () => {
  it('keeps meta.properties and unchanged checkpoints as they were', async () => {
    const dataDir = tempDir('kts-restart-');
    const first = await startBroker({ dataDir, host: '127.0.0.1', port: 0, logLevel: 'warn' });
    await first.close();
    // (With no partitions there may be no checkpoint files at all: missing means empty.)
    const files = ['meta.properties', 'kts-metadata.json', 'recovery-point-offset-checkpoint', 'log-start-offset-checkpoint'].filter((f) =>
      existsSync(join(dataDir, f)),
    );
    expect(files).toContain('meta.properties');
    const before = files.map((f) => [readFileSync(join(dataDir, f), 'utf8'), statSync(join(dataDir, f)).mtimeMs]);
    await new Promise((r) => setTimeout(r, 20));
    const second = await startBroker({ dataDir, host: '127.0.0.1', port: 0, logLevel: 'warn' });
    try {
      expect(second.clusterId).toBe(first.clusterId);
      expect(files.map((f) => [readFileSync(join(dataDir, f), 'utf8'), statSync(join(dataDir, f)).mtimeMs])).toEqual(before);
    } finally {
      await second.close();
    }
  });
});
