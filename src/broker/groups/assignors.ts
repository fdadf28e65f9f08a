// The server-side assignors of KIP-848 consumer groups: `uniform` (Kafka's default) and `range`.
// Both compute a target assignment for every member from the members' subscriptions and the
// topics' partition counts. Pure functions over plain data (no I/O).

/** topic id -> partitions. */
export type Assignment = Map<string, Set<number>>;

export interface AssignorMember {
  memberId: string;
  /** Topic ids the member subscribes to (that exist). */
  topics: ReadonlySet<string>;
  /** The member's previous target assignment (uniform keeps what it can). */
  current: Assignment;
}

export interface AssignorTopic {
  topicId: string;
  /** Sorts partitions and members deterministically (topic name). */
  name: string;
  partitions: number;
}

export type AssignorName = 'uniform' | 'range';
export const ASSIGNOR_NAMES: readonly AssignorName[] = ['uniform', 'range'];

/** Kafka accepts the assignors' names and (3.x configs) their class names. */
export function assignorNameOf(configured: string): AssignorName | null {
  const s = configured.trim();
  if (s === 'uniform' || s.endsWith('.UniformAssignor')) return 'uniform';
  if (s === 'range' || s.endsWith('.RangeAssignor')) return 'range';
  return null;
}

export function assign(name: AssignorName, members: AssignorMember[], topics: AssignorTopic[]): Map<string, Assignment> {
  return name === 'range' ? rangeAssign(members, topics) : uniformAssign(members, topics);
}

const byId = (a: AssignorMember, b: AssignorMember) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);

function add(a: Assignment, topicId: string, partition: number): void {
  let s = a.get(topicId);
  if (!s) a.set(topicId, (s = new Set()));
  s.add(partition);
}

/**
 * Range: per topic, its subscribers sorted by member id get consecutive ranges, the first
 * `partitions % subscribers` one partition more (co-partitioned topics line up).
 */
function rangeAssign(members: AssignorMember[], topics: AssignorTopic[]): Map<string, Assignment> {
  const out = new Map<string, Assignment>(members.map((m) => [m.memberId, new Map()]));
  for (const topic of topics) {
    const subscribers = members.filter((m) => m.topics.has(topic.topicId)).sort(byId);
    if (subscribers.length === 0) continue;
    const quota = Math.floor(topic.partitions / subscribers.length);
    const extra = topic.partitions % subscribers.length;
    let next = 0;
    subscribers.forEach((m, i) => {
      const count = quota + (i < extra ? 1 : 0);
      for (let k = 0; k < count; k++) add(out.get(m.memberId)!, topic.topicId, next++);
    });
  }
  return out;
}

/**
 * Uniform: as even as the subscriptions allow and sticky. Every member keeps the partitions of its
 * previous target that it still subscribes to, as long as it does not hold more than its share;
 * the rest go to the eligible member holding the fewest; then partitions move from the fullest to
 * the emptiest eligible member until no move narrows the gap.
 */
function uniformAssign(members: AssignorMember[], topics: AssignorTopic[]): Map<string, Assignment> {
  const sorted = [...members].sort(byId);
  const out = new Map<string, Assignment>(sorted.map((m) => [m.memberId, new Map()]));
  const count = new Map<string, number>(sorted.map((m) => [m.memberId, 0]));
  const owner = new Map<string, string>(); // "topicId:partition" -> member id
  const eligible = new Map<string, AssignorMember[]>();
  const all: { topicId: string; partition: number }[] = [];
  for (const topic of [...topics].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const subs = sorted.filter((m) => m.topics.has(topic.topicId));
    if (subs.length === 0) continue;
    eligible.set(topic.topicId, subs);
    for (let p = 0; p < topic.partitions; p++) all.push({ topicId: topic.topicId, partition: p });
  }
  const subscribed = sorted.filter((m) => [...m.topics].some((t) => eligible.has(t)));
  const ceiling = subscribed.length > 0 ? Math.ceil(all.length / subscribed.length) : 0;
  const give = (m: AssignorMember, topicId: string, p: number) => {
    add(out.get(m.memberId)!, topicId, p);
    count.set(m.memberId, count.get(m.memberId)! + 1);
    owner.set(`${topicId}:${p}`, m.memberId);
  };
  // Stickiness: keep previous partitions, up to the ceiling.
  for (const m of sorted) {
    for (const [topicId, parts] of m.current) {
      if (!eligible.get(topicId)?.includes(m)) continue;
      const partitions = topics.find((t) => t.topicId === topicId)?.partitions ?? 0;
      for (const p of [...parts].sort((a, b) => a - b)) {
        if (p >= partitions || owner.has(`${topicId}:${p}`) || count.get(m.memberId)! >= ceiling) continue;
        give(m, topicId, p);
      }
    }
  }
  for (const { topicId, partition } of all) {
    if (owner.has(`${topicId}:${partition}`)) continue;
    const target = eligible.get(topicId)!.reduce((best, m) => (count.get(m.memberId)! < count.get(best.memberId)! ? m : best));
    give(target, topicId, partition);
  }
  // Balance: bounded, each move narrows the gap between two members by 2.
  for (let moves = 0; moves < all.length * Math.max(1, sorted.length); moves++) {
    let moved = false;
    for (const { topicId, partition } of all) {
      const from = owner.get(`${topicId}:${partition}`)!;
      const to = eligible.get(topicId)!.reduce((best, m) => (count.get(m.memberId)! < count.get(best.memberId)! ? m : best));
      if (count.get(from)! - count.get(to.memberId)! < 2) continue;
      out.get(from)!.get(topicId)!.delete(partition);
      if (out.get(from)!.get(topicId)!.size === 0) out.get(from)!.delete(topicId);
      count.set(from, count.get(from)! - 1);
      give(to, topicId, partition);
      moved = true;
      break;
    }
    if (!moved) break;
  }
  return out;
}
