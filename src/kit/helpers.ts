// The test kit's waits and reads, over kts's own client: what a test otherwise writes as a polling
// loop around an admin client. Each call opens its own connections and closes them before it
// returns; the waits poll every 25 ms and fail after timeoutMs naming what they last saw.
import { KafkaClient, ListOffsetsTime, type FetchedRecord, type GroupDescription } from '../client/index.js';

/** A broker or cluster handle (anything with `bootstrap`), or a bootstrap string. */
export type KitTarget = string | { readonly bootstrap: string };

export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
}

const POLL_MS = 25;

function bootstrapOf(target: KitTarget): string {
  const bootstrap = typeof target === 'string' ? target : target?.bootstrap;
  if (typeof bootstrap !== 'string' || bootstrap === '') throw new TypeError('expected a broker or cluster handle, or a bootstrap string such as 127.0.0.1:9092');
  return bootstrap;
}

async function withClient<T>(target: KitTarget, use: (client: KafkaClient) => Promise<T>): Promise<T> {
  const client = await KafkaClient.connect(bootstrapOf(target), { clientId: 'kts-kit' });
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** Polls `look` until it returns a value; a thrown error (a coordinator still loading) counts as not yet. */
async function poll<T>(what: string, timeoutMs: number, look: () => Promise<{ done: T } | { seen: string }>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing yet';
  for (;;) {
    try {
      const r = await look();
      if ('done' in r) return r.done;
      last = r.seen;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Resolves with the group's description once it is Stable (a classic group past its rebalance, a
 * KIP-848 group with every member reconciled) and, when `members` is given, has that many members.
 */
export async function waitForGroupStable(target: KitTarget, groupId: string, opts: WaitOptions & { members?: number } = {}): Promise<GroupDescription> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return withClient(target, (client) =>
    poll<GroupDescription>(`group '${groupId}' to be Stable${opts.members === undefined ? '' : ` with ${opts.members} members`}`, timeoutMs, async () => {
      const [group] = await client.groups.describeGroups([groupId]);
      const stable = group.state.toLowerCase() === 'stable' && (opts.members === undefined || group.members.length === opts.members);
      return stable ? { done: group } : { seen: `state ${group.state}, ${group.members.length} members` };
    }),
  );
}

/**
 * Resolves with the group's committed offsets of `topic` (partition -> offset) once each partition
 * named in `offsets` has a committed offset at least that high.
 */
export async function waitForOffsets(target: KitTarget, groupId: string, topic: string, offsets: Readonly<Record<number, number>> | readonly number[], opts: WaitOptions = {}): Promise<Record<number, number>> {
  const wanted = Object.entries(offsets).map(([p, o]) => [Number(p), Number(o)] as const);
  for (const [p, o] of wanted) {
    if (!Number.isInteger(p) || p < 0 || !Number.isInteger(o) || o < 0) throw new RangeError(`offsets maps partitions to offsets (whole numbers from 0), not ${p}: ${String(o)}`);
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return withClient(target, (client) =>
    poll<Record<number, number>>(`group '${groupId}' to commit ${wanted.map(([p, o]) => `${topic}-${p}@${o}`).join(', ')}`, timeoutMs, async () => {
      const committed = await client.groups.fetchOffsets(groupId, wanted.map(([partition]) => ({ topic, partition })));
      const byPartition: Record<number, number> = {};
      for (const c of committed) if (c.topic === topic && !c.error) byPartition[c.partition] = c.offset;
      const done = wanted.every(([p, o]) => (byPartition[p] ?? -1) >= o);
      return done ? { done: byPartition } : { seen: wanted.map(([p]) => `${topic}-${p}@${byPartition[p] ?? -1}`).join(', ') };
    }),
  );
}

export interface ConsumeAllOptions extends WaitOptions {
  /** 'read_committed' stops at each partition's last stable offset and leaves aborted records out. Default 'read_uncommitted'. */
  isolation?: 'read_uncommitted' | 'read_committed';
}

/**
 * Every record of `topic` now in its partitions: each partition read from its log start to the end
 * it had when the call began (its high watermark, or last stable offset with read_committed).
 * Records come partition by partition, in offset order; key and value are Buffers (null when absent).
 */
export async function consumeAll(target: KitTarget, topic: string, opts: ConsumeAllOptions = {}): Promise<FetchedRecord[]> {
  const isolationLevel = opts.isolation === 'read_committed' ? 1 : 0;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  return withClient(target, async (client) => {
    const metadata = await client.topic(topic, true);
    const partitions = metadata.partitions.map((p) => p.partition).sort((a, b) => a - b);
    const ask = (timestamp: number) => client.admin.listOffsets(partitions.map((partition) => ({ topic, partition, timestamp })), { isolationLevel });
    const [starts, ends] = [await ask(ListOffsetsTime.earliest), await ask(ListOffsetsTime.latest)];
    for (const r of [...starts, ...ends]) if (r.error) throw r.error;
    const next = new Map(starts.map((s) => [s.partition, s.offset]));
    const end = new Map(ends.map((e) => [e.partition, e.offset]));
    const records = new Map<number, FetchedRecord[]>(partitions.map((p) => [p, []]));
    for (;;) {
      const pending = partitions.filter((p) => next.get(p)! < end.get(p)!);
      if (pending.length === 0) break;
      if (Date.now() > deadline) throw new Error(`consumeAll('${topic}'): timed out with ${pending.map((p) => `partition ${p} at ${next.get(p)} of ${end.get(p)}`).join(', ')}`);
      const fetched = await client.fetch(pending.map((partition) => ({ topic, partition, offset: next.get(partition)! })), { maxWaitMs: 100, isolationLevel });
      for (const f of fetched) {
        if (f.error) throw f.error;
        const limit = end.get(f.partition)!;
        for (const r of f.records) if (r.offset >= next.get(f.partition)! && r.offset < limit) records.get(f.partition)!.push(r);
        if (f.nextOffset > next.get(f.partition)!) next.set(f.partition, f.nextOffset);
      }
    }
    return partitions.flatMap((p) => records.get(p)!);
  });
}
