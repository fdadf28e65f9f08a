// Sends per-partition work to each partition's leader, in parallel, and retries the partitions
// whose answer says leadership moved (after refreshing metadata).
import type { Cluster } from './cluster.js';
import type { BrokerConnection } from './connection.js';
import { ErrorCode } from '../protocol/errors.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

const LEADERSHIP_ERRORS = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.NETWORK_EXCEPTION,
  // A topic id the leader does not know (yet) or that names another topic now: refresh metadata.
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INCONSISTENT_TOPIC_ID,
]);

export type LeaderCall<T extends TopicPartition, R extends { errorCode: number }> = (
  conn: BrokerConnection,
  batch: T[],
) => Promise<Map<string, R>>;

/**
 * Runs `call` once per leader with that leader's items. Resolves with a result per item key
 * (`tpKey`); an item whose partition has no leader gets `{ errorCode }` from metadata.
 */
export async function routeToLeaders<T extends TopicPartition, R extends { errorCode: number }>(
  cluster: Cluster,
  items: T[],
  call: LeaderCall<T, R>,
  attempts = 4,
): Promise<Map<string, R | { errorCode: number }>> {
  const results = new Map<string, R | { errorCode: number }>();
  let pending = items;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const last = attempt >= attempts;
    const topics = [...new Set(pending.map((i) => i.topic))];
    if (attempt > 1 || topics.some((t) => !cluster.topic(t))) await cluster.refresh(topics);
    const groups = new Map<number, T[]>();
    const retry: T[] = [];
    for (const item of pending) {
      const t = cluster.topic(item.topic);
      const p = t?.partitions.find((x) => x.partition === item.partition);
      const code = !t || t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || !p ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : t.errorCode || (p.leader < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : 0);
      if (code !== 0) {
        if (last || code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) results.set(tpKey(item.topic, item.partition), { errorCode: code });
        else retry.push(item);
        continue;
      }
      const list = groups.get(p!.leader) ?? [];
      list.push(item);
      groups.set(p!.leader, list);
    }
    await Promise.all(
      [...groups].map(async ([leader, batch]) => {
        let answer: Map<string, R>;
        try {
          answer = await call(await cluster.node(leader), batch);
        } catch (err) {
          if (last) throw err;
          retry.push(...batch);
          return;
        }
        for (const item of batch) {
          const key = tpKey(item.topic, item.partition);
          const r = answer.get(key) ?? ({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR } as { errorCode: number });
          if (!last && LEADERSHIP_ERRORS.has(r.errorCode)) retry.push(item);
          else results.set(key, r);
        }
      }),
    );
    pending = retry;
    if (pending.length > 0) await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 500)));
  }
  return results;
}
