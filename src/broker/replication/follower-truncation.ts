// Where a new follower's log is cut before it fetches (KIP-101 / KIP-279): it asks the leader, with
// OffsetForLeaderEpoch, where the follower's latest epoch ends in the leader's log, and truncates to
// that (or to its own end, if shorter). A leader that does not serve OffsetForLeaderEpoch leaves the
// high watermark as the only safe point: that fallback is logged, since it can lose or diverge
// records Kafka's epochs would keep right.
import type { BrokerConnection } from '../../client/connection.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { Logger } from '../logger.js';
import type { FollowedPartition } from './replica-fetcher.js';

const OFFSET_FOR_LEADER_EPOCH = 23;

export async function truncateForFollowing(conn: BrokerConnection, p: FollowedPartition, log: Logger): Promise<void> {
  const partitionLog = p.log;
  const latestEpoch = partitionLog.leaderEpochs.latestEpoch();
  if (latestEpoch === undefined || partitionLog.logEndOffset === 0) return; // nothing to cut
  const supported = conn.brokerVersions.get(OFFSET_FOR_LEADER_EPOCH);
  let target: number;
  if (supported && supported[1] >= 3) {
    const version = Math.min(supported[1], 4);
    const body = await conn.send(OFFSET_FOR_LEADER_EPOCH, version, {
      replicaId: -2,
      topics: [{ topic: p.topic, partitions: [{ partition: p.partition, currentLeaderEpoch: p.leaderEpoch, leaderEpoch: latestEpoch }] }],
    });
    const answer = body.topics?.[0]?.partitions?.[0];
    if (!answer || answer.errorCode !== ErrorCode.NONE) {
      throw new Error(`OffsetForLeaderEpoch of ${p.topic}-${p.partition} answered error ${answer?.errorCode ?? 'none'}`);
    }
    if (answer.endOffset < 0) return; // the leader knows nothing older: keep the log
    target = Math.min(Number(answer.endOffset), partitionLog.logEndOffset);
  } else {
    target = partitionLog.highWatermark;
    log.warn(`[${p.log.name}] leader at ${conn.address} does not serve OffsetForLeaderEpoch v3+: truncating to the high watermark ${target} (records may be lost)`);
  }
  if (target >= partitionLog.logEndOffset) return;
  log.info(`[${p.log.name}] truncating from ${partitionLog.logEndOffset} to ${target} before following at epoch ${p.leaderEpoch}`);
  // The follower's own high watermark may be above the point (it trails the leader's): allowed, as Kafka.
  await partitionLog.truncateTo(target, { belowHighWatermark: true });
}
