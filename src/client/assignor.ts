// The "range" assignor (Kafka's RangeAssignor): per topic, its partitions in order are split into
// contiguous ranges over the subscribed members sorted by member id; the first
// (partitions % members) members get one extra partition.

export interface MemberSubscription {
  memberId: string;
  topics: string[];
}

/** memberId -> topic -> partitions. Every member gets an entry, possibly empty. */
export function rangeAssign(members: MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>(members.map((m) => [m.memberId, new Map()]));
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  for (const topic of topics) {
    const count = partitionCounts.get(topic);
    if (!count) continue;
    const subscribers = members
      .filter((m) => m.topics.includes(topic))
      .map((m) => m.memberId)
      .sort();
    const per = Math.floor(count / subscribers.length);
    const extra = count % subscribers.length;
    subscribers.forEach((memberId, i) => {
      const start = per * i + Math.min(i, extra);
      const length = per + (i < extra ? 1 : 0);
      if (length === 0) return;
      out.get(memberId)!.set(
        topic,
        Array.from({ length }, (_, k) => start + k),
      );
    });
  }
  return out;
}
