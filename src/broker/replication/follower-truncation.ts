// Where a new follower's log is cut before it fetches (KIP-101 / KIP-279): it asks the leader, with
// OffsetForLeaderEpoch, where the follower's latest epoch ends in the leader's log, and cuts by
// Kafka's rule (storage's followerTruncation); when the leader's answer names an older epoch than
// ours, another round asks about that one. A leader that does not serve OffsetForLeaderEpoch v3+
// leaves the high watermark as the only safe point: that fallback is logged, since it can lose or
// diverge records Kafka's epochs would keep right.
import type { BrokerConnection } from '../../client/connection.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { followerTruncation } from '../../storage/leader-epoch-cache.js';
import type { Logger } from '../logger.js';
import type { FollowedPartition } from './replica-fetcher.js';

const OFFSET_FOR_LEADER_EPOCH = 23;
const MAX_ROUNDS = 16;

/**
 * `stillFollowing` is asked after each answer, right before a cut is queued on the log: a partition
 * this broker stopped following meanwhile (it leads it now, or follows another leader) is not cut
 * on an answer that came from the old leadership. Kafka's fetcher holds its partition-map lock over
 * a truncation, so removing a partition waits for it; here the check and the queued cut happen in
 * one synchronous step, so appends of the new role are ordered after the cut or see no cut at all.
 */
export async function truncateForFollowing(conn: BrokerConnection, p: FollowedPartition, log: Logger, stillFollowing: () => boolean = () => true): Promise<void> {
  const partitionLog = p.log;
  // Appends this broker queued in its previous role land first, so the question below is about the
  // whole log: an epoch's end read while one was still queued would leave that batch past the cut.
  await partitionLog.settled();
  const supported = conn.brokerVersions.get(OFFSET_FOR_LEADER_EPOCH);
  if (!supported || supported[1] < 3) {
    const target = partitionLog.highWatermark;
    if (!stillFollowing()) return;
    if (target < partitionLog.logEndOffset) log.warn(`[${p.log.name}] leader at ${conn.address} does not serve OffsetForLeaderEpoch v3+: truncating to the high watermark ${target} (records may be lost)`);
    await partitionLog.truncateTo(target, { belowHighWatermark: true });
    return;
  }
  const version = Math.min(supported[1], 4);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const epoch = partitionLog.leaderEpochs.latestEpoch();
    if (epoch === undefined) {
      // No epoch to ask about (an empty log, or records older than leader epochs): Kafka truncates to
      // the high watermark. The cut is queued even at the log end, for whatever was queued meanwhile.
      if (stillFollowing()) await partitionLog.truncateTo(Math.min(partitionLog.highWatermark, partitionLog.logEndOffset), { belowHighWatermark: true });
      return;
    }
    const body = await conn.send(OFFSET_FOR_LEADER_EPOCH, version, {
      replicaId: -2,
      topics: [{ topic: p.topic, partitions: [{ partition: p.partition, currentLeaderEpoch: p.leaderEpoch, leaderEpoch: epoch }] }],
    });
    const answer = body.topics?.[0]?.partitions?.[0];
    if (!answer || answer.errorCode !== ErrorCode.NONE) {
      const code = answer?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
      throw new KafkaError(code, `OffsetForLeaderEpoch of ${p.topic}-${p.partition} answered error ${answer?.errorCode ?? 'none'}`);
    }
    if (!stillFollowing()) {
      log.info(`[${p.log.name}] not truncated: no longer following at epoch ${p.leaderEpoch} when the leader answered`);
      return;
    }
    const end = partitionLog.logEndOffset;
    const point = followerTruncation(partitionLog.leaderEpochs, { epoch: answer.leaderEpoch, endOffset: Number(answer.endOffset) }, end, partitionLog.highWatermark);
    if (point.offset < end) {
      log.info(`[${p.log.name}] truncating from ${end} to ${point.offset} before following at epoch ${p.leaderEpoch} (leader: epoch ${epoch} ends at ${answer.endOffset} as epoch ${answer.leaderEpoch})`);
    }
    // Queued even when the point is this log's end, as Kafka always truncates: a batch queued after
    // the question (none should be, see settled() above) is cut, and so is an epoch noted at the end
    // that wrote nothing. The follower's own high watermark may be above the point (it trails the
    // leader's): allowed, as Kafka.
    await partitionLog.truncateTo(point.offset, { belowHighWatermark: true });
    if (point.completed) return;
  }
  throw new Error(`truncation of ${p.topic}-${p.partition} did not settle in ${MAX_ROUNDS} rounds`);
}

const LIST_OFFSETS = 2;
const EARLIEST = -2;
const LATEST = -1;

/** The leader's offset for `timestamp` (EARLIEST or LATEST), asked as replica `nodeId`. */
async function leaderOffset(conn: BrokerConnection, p: FollowedPartition, nodeId: number, timestamp: number): Promise<number> {
  const supported = conn.brokerVersions.get(LIST_OFFSETS);
  if (!supported || supported[1] < 1) throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, `leader at ${conn.address} does not serve ListOffsets v1+`);
  const version = Math.min(supported[1], 7);
  const body = await conn.send(LIST_OFFSETS, version, {
    replicaId: nodeId,
    isolationLevel: 0,
    topics: [{ name: p.topic, partitions: [{ partitionIndex: p.partition, currentLeaderEpoch: p.leaderEpoch, timestamp, maxNumOffsets: 1 }] }],
  });
  const answer = body.topics?.[0]?.partitions?.[0];
  if (!answer || answer.errorCode !== ErrorCode.NONE) {
    const code = answer?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
    throw new KafkaError(code, `ListOffsets (${timestamp}) of ${p.topic}-${p.partition} answered error ${answer?.errorCode ?? 'none'}`);
  }
  return Number(answer.offset);
}

/**
 * A fetch answered OFFSET_OUT_OF_RANGE (Kafka's AbstractFetcherThread.fetchOffsetAndTruncate): this
 * log's end lies outside the leader's log. Past the leader's end (an unclean election), it is cut to
 * the leader's end. Below the leader's start (the leader deleted segments by retention or
 * DeleteRecords while this broker was away), nothing here can be continued: the log is emptied and
 * starts at the leader's log start, and fetching goes on from there. Otherwise (the leader's log
 * grew meanwhile) the next fetch tries again from this log's end. Returns whether the log was cut.
 */
export async function truncateOutOfRange(conn: BrokerConnection, p: FollowedPartition, nodeId: number, log: Logger, stillFollowing: () => boolean = () => true): Promise<boolean> {
  const partitionLog = p.log;
  await partitionLog.settled();
  const leaderEnd = await leaderOffset(conn, p, nodeId, LATEST);
  const end = partitionLog.logEndOffset;
  if (leaderEnd < end) {
    if (!stillFollowing()) return false;
    log.warn(`[${partitionLog.name}] log end ${end} is past the leader's ${leaderEnd} at epoch ${p.leaderEpoch}: truncating to it`);
    await partitionLog.truncateTo(leaderEnd, { belowHighWatermark: true });
    return true;
  }
  const leaderStart = await leaderOffset(conn, p, nodeId, EARLIEST);
  if (!stillFollowing() || leaderStart <= partitionLog.logEndOffset) return false;
  log.warn(`[${partitionLog.name}] log end ${partitionLog.logEndOffset} is below the leader's log start ${leaderStart} at epoch ${p.leaderEpoch}: emptying the log and starting it at ${leaderStart}`);
  await partitionLog.truncateFullyAndStartAt(leaderStart);
  // Kafka's truncateFullyAndStartAt moves the high watermark to the new start as well.
  partitionLog.setHighWatermark(leaderStart);
  return true;
}
