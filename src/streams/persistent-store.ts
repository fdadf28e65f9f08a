// Persistent key-value stores (Kafka's RocksDB stores) on LMDB, through the `lmdb` package (an
// optional dependency with prebuilt binaries in npm packages): reads are synchronous, as processors
// need, and memory-mapped. Layout, as Kafka's under state.dir:
//
//   <state.dir>/<application.id>/<task id>/lmdb/<store name>/   the store (data.mdb, lock.mdb)
//   <state.dir>/<application.id>/<task id>/.checkpoint          changelog offsets the stores hold
//
// The checkpoint file is Kafka's format (version 0, a count, then "<topic> <partition> <offset>"
// lines): the offset is the changelog's next offset once the stores were flushed, so a restart
// restores only the changelog's tail from there. Writes go to an in-memory overlay that is written
// to LMDB in one transaction when the task commits (and when it grows large), then the checkpoint
// is written: a store on disk is never behind its checkpoint. Under exactly_once_v2 the checkpoint is
// deleted once a task is restored and written again only at a clean close, so that a crash (whose
// store may hold uncommitted writes) restores in full, as Kafka does.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { InMemoryKeyValueStore } from './processor.js';
import type { Serde } from './serdes.js';

type Lmdb = typeof import('lmdb');
type Database = ReturnType<Lmdb['open']>;
let lmdb: Lmdb | null = null;

/** Loads lmdb once, before a task opens a persistent store (task construction is synchronous). */
export async function loadPersistentStores(): Promise<void> {
  if (lmdb) return;
  try {
    lmdb = await import('lmdb');
  } catch (err) {
    throw new Error(`persistent state stores need the lmdb package (an optional dependency of kts: npm install lmdb): ${(err as Error).message}`);
  }
}

/**
 * lmdb, loaded at once if it was not yet (the TopologyTestDriver builds its tasks synchronously):
 * the package has a CommonJS build too.
 */
export function lmdbModule(): Lmdb {
  if (lmdb) return lmdb;
  try {
    lmdb = createRequire(import.meta.url)('lmdb') as Lmdb;
  } catch (err) {
    throw new Error(`persistent state stores need the lmdb package (an optional dependency of kts: npm install lmdb): ${(err as Error).message}`);
  }
  return lmdb;
}

/** LMDB's largest key (lmdb's build): a persistent store's key bytes plus its own prefix must fit. */
export const LMDB_MAX_KEY = 1978;

/** Refuses at the put a key LMDB would refuse at the commit's flush, saying what to do instead. */
export function checkKeySize(store: string, diskKeyLength: number, overhead: number): void {
  if (diskKeyLength <= LMDB_MAX_KEY) return;
  throw new Error(`store ${store}: a key of ${diskKeyLength - overhead} bytes is over the ${LMDB_MAX_KEY - overhead} bytes a persistent (LMDB) store takes; keep this store in memory (default.dsl.store=in_memory, or an in-memory store supplier)`);
}

/** Beyond this many pending writes the overlay is written out before the commit. */
export const MAX_PENDING = 10_000;

/** What the runtime needs of a store on disk: flush at commit, checkpoint, wipe before a full restore. */
export interface PersistentStore {
  readonly name: string;
  /** Written since the last checkpoint. */
  changed: boolean;
  flush(): void;
  clear(): void;
  close(): void;
}

export function isPersistentStore<T>(store: T): store is T & PersistentStore {
  return store instanceof PersistentKeyValueStore || (typeof store === 'object' && store !== null && (store as { persistent?: unknown }).persistent === true);
}

/**
 * A key as LMDB holds it: one 0 byte, then the key's bytes. LMDB refuses an empty key, and Kafka's
 * keys may be empty (WordCount counts the empty word); the constant prefix keeps the keys' order.
 */
function diskKey(key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(key.length + 1);
  out[0] = 0;
  key.copy(out, 1);
  return out;
}

interface Entry {
  key: Buffer;
  value: Buffer;
  timestamp?: number;
}

export class PersistentKeyValueStore<K, V> extends InMemoryKeyValueStore<K, V> implements PersistentStore {
  private readonly db: Database;
  /** Writes not in LMDB yet, by key (latin1): value null = deleted. */
  private readonly pending = new Map<string, { key: Buffer; value: Buffer | null; timestamp: number }>();
  /** Written since the last checkpoint. */
  changed = false;

  constructor(
    name: string,
    keySerde: Serde<K>,
    valueSerde: Serde<V>,
    serdeTopic: string,
    readonly dir: string,
  ) {
    super(name, keySerde, valueSerde, serdeTopic);
    mkdirSync(dir, { recursive: true });
    this.db = lmdbModule().open({ path: dir, keyEncoding: 'binary', encoding: 'binary' });
  }

  /** Stored bytes: the timestamp (8 bytes, big-endian), then the value. */
  private static decode(key: Buffer, raw: Buffer): Entry {
    return { key, value: raw.subarray(8), timestamp: Number(raw.readBigInt64BE(0)) };
  }

  protected override lookup(key: Buffer): Entry | undefined {
    const p = this.pending.get(key.toString('latin1'));
    if (p) return p.value === null ? undefined : { key: p.key, value: p.value, timestamp: p.timestamp };
    const raw = this.db.get(diskKey(key)) as Buffer | undefined;
    return raw ? PersistentKeyValueStore.decode(key, raw) : undefined;
  }

  protected override entries(): Iterable<Entry> {
    const all = new Map<string, Entry>();
    for (const { key, value } of this.db.getRange({})) {
      const k = (key as Buffer).subarray(1);
      all.set(k.toString('latin1'), PersistentKeyValueStore.decode(k, value as Buffer));
    }
    for (const [k, p] of this.pending) {
      if (p.value === null) all.delete(k);
      else all.set(k, { key: p.key, value: p.value, timestamp: p.timestamp });
    }
    return all.values();
  }

  override approximateNumEntries(): number {
    return (this.db.getStats() as { entryCount: number }).entryCount + this.pending.size;
  }

  override putBytes(key: Buffer, value: Buffer | null, timestamp = -1): void {
    checkKeySize(this.name, key.length + 1, 1);
    this.pending.set(key.toString('latin1'), { key, value, timestamp });
    this.changed = true;
    if (this.pending.size >= MAX_PENDING) this.flush();
  }

  override clear(): void {
    this.pending.clear();
    this.db.clearSync();
  }

  /** Writes the pending changes to LMDB in one transaction. */
  flush(): void {
    if (this.pending.size === 0) return;
    this.db.transactionSync(() => {
      for (const p of this.pending.values()) {
        if (p.value === null) this.db.removeSync(diskKey(p.key));
        else {
          const raw = Buffer.allocUnsafe(8 + p.value.length);
          raw.writeBigInt64BE(BigInt(p.timestamp), 0);
          p.value.copy(raw, 8);
          this.db.putSync(diskKey(p.key), raw);
        }
      }
    });
    this.pending.clear();
  }

  close(): void {
    this.pending.clear();
    this.db.close().catch(() => undefined);
  }
}

/** `<state.dir>/<application.id>/<task id>`. */
export function taskDirectory(stateDir: string, applicationId: string, taskId: string): string {
  return join(stateDir, applicationId, taskId);
}

export function storeDirectory(taskDir: string, storeName: string): string {
  return join(taskDir, 'lmdb', storeName);
}

/** The changelog offsets of a task's checkpoint file, by `<topic> <partition>`; empty when there is none or it is unreadable. */
export function readCheckpoint(taskDir: string): Map<string, number> {
  const out = new Map<string, number>();
  let text: string;
  try {
    text = readFileSync(join(taskDir, '.checkpoint'), 'utf8');
  } catch {
    return out;
  }
  const lines = text.split('\n').filter((l) => l !== '');
  if (lines[0] !== '0' || Number(lines[1]) !== lines.length - 2) return out; // another version, or torn: restore in full
  for (const line of lines.slice(2)) {
    const m = /^(\S+) (\d+) (-?\d+)$/.exec(line);
    if (!m) return new Map();
    out.set(`${m[1]} ${m[2]}`, Number(m[3]));
  }
  return out;
}

/** Writes the checkpoint atomically (a temporary file renamed over the old one). */
export function writeCheckpoint(taskDir: string, offsets: { topic: string; partition: number; offset: number }[]): void {
  mkdirSync(taskDir, { recursive: true });
  const file = join(taskDir, '.checkpoint');
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `0\n${offsets.length}\n${offsets.map((o) => `${o.topic} ${o.partition} ${o.offset}\n`).join('')}`);
  renameSync(tmp, file);
}

export function deleteCheckpoint(taskDir: string): void {
  rmSync(join(taskDir, '.checkpoint'), { force: true });
}
