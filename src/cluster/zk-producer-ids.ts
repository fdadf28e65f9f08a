// Producer id blocks claimed through ZooKeeper's /latest_producer_id_block, as Kafka 3.9's
// ZkProducerIdManager does: every broker of a cluster hands out ids from blocks no other broker
// holds (each broker counting from 0 on its own gave two idempotent producers the same id, and the
// second one's sequence numbers were refused as OUT_OF_ORDER_SEQUENCE_NUMBER on a partition the
// first one wrote). The node holds the last claimed block; a claim writes the next one,
// conditioned on the version read, and reads again when another broker got there first.
import { ErrorCode } from '../protocol/zookeeper/index.js';
import { ZooKeeperError } from './zookeeper/errors.js';
import { isNoNode, isNodeExists, type ZkSession } from './zk-session.js';

export const PRODUCER_ID_BLOCK_PATH = '/latest_producer_id_block';

/** The last id of the block the node names, or -1 (no block yet). */
function lastClaimed(data: Buffer | null): number {
  if (!data || data.length === 0) return -1;
  const parsed = JSON.parse(data.toString('utf8')) as { block_end?: unknown };
  const end = Number(parsed.block_end);
  if (!Number.isSafeInteger(end) || end < -1) throw new Error(`${PRODUCER_ID_BLOCK_PATH} is damaged: ${data.toString('utf8').slice(0, 100)}`);
  return end;
}

/** Claims the next `size` ids for `brokerId`; resolves with the first. */
export async function claimProducerIdBlock(zk: ZkSession, brokerId: number, size: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const current = await zk.getData(PRODUCER_ID_BLOCK_PATH).catch((e) => (isNoNode(e) ? null : Promise.reject(e)));
    const start = lastClaimed(current?.data ?? null) + 1;
    const block = Buffer.from(JSON.stringify({ version: 1, broker: brokerId, block_start: String(start), block_end: String(start + size - 1) }));
    try {
      if (current) await zk.setData(PRODUCER_ID_BLOCK_PATH, block, current.stat.version);
      else await zk.create(PRODUCER_ID_BLOCK_PATH, block, 'persistent');
      return start;
    } catch (err) {
      const lostRace = isNodeExists(err) || (err instanceof ZooKeeperError && err.code === ErrorCode.BadVersion);
      if (!lostRace) throw err;
    }
  }
  throw new Error(`could not claim a producer id block in ${PRODUCER_ID_BLOCK_PATH}: other brokers kept claiming first`);
}
