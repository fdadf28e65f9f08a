// The group coordinator writes __consumer_offsets as its partitions' leader: each batch carries the
// partition's leader epoch (as a produced batch does), and the log's leader-epoch cache follows.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { TopicCoordinatorLog } from '../../../src/broker/groups/topic-log.js';
import type { LogManager } from '../../../src/storage/index.js';
import { captureLogger, decodeBatches, makeTempDir, openManager } from '../storage/helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let manager: LogManager | undefined;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(async () => {
  await manager?.close();
  await cleanup();
});

it('stamps the partition leader epoch into every __consumer_offsets batch', async () => {
  const m = (manager = await openManager(dir, { logger: captureLogger() }));
  let created = false;
  const topics = {
    get: (name: string) => (created && name === '__consumer_offsets' ? { partitions: 1 } : undefined),
    partitionState: () => ({ leader: 0, leaderEpoch: 4 }),
    async create(name: string) {
      await m.create(name, 0);
      created = true;
    },
  };
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  const coordinatorLog = new TopicCoordinatorLog(m, topics, 1, quiet as never);
  await coordinatorLog.append(0, [{ key: Buffer.from('k'), value: Buffer.from('v') }], Date.now());
  await coordinatorLog.append(0, [{ key: Buffer.from('k2'), value: null }], Date.now());
  const log = m.get('__consumer_offsets', 0)!;
  expect(decodeBatches((await log.read(0, 1 << 20)).records).map((b) => b.leaderEpoch)).toEqual([4, 4]);
  expect(log.leaderEpochs.entries()).toEqual([{ epoch: 4, startOffset: 0 }]);
});
