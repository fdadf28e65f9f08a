// Compares embedded stores for Kafka Streams' persistent state (the choice behind src/streams/persistent-store.ts):
// lmdb, classic-level (LevelDB), better-sqlite3 and the RocksDB bindings rocksdb-native and
// @nxtedition/rocksdb. None of them but lmdb is a dependency of kts: install them elsewhere and
// point STORE_BENCH_MODULES at that node_modules, e.g.
//   mkdir /tmp/store-bench && cd /tmp/store-bench && npm init -y && \
//     npm install lmdb classic-level better-sqlite3@12 rocksdb-native @nxtedition/rocksdb
//   STORE_BENCH_MODULES=/tmp/store-bench/node_modules node bench/embedded-stores.mjs
// For each store, 100k entries (16-byte keys, 64-byte values) in random order:
//   write: all of them in one transaction / batch (as a task's commit flushes its overlay);
//   read: every key once, in another random order (synchronously where the store can: a processor
//         reads synchronously; otherwise awaited in chunks of 1000 with getMany / concurrent gets);
//   scan: every entry in key order, then 1000 range scans of 100 entries from random starts;
//   size: the store's files on disk after close.
// Prints one line per store; a store whose package is missing is reported as such.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.env.STORE_BENCH_N ?? 100_000);
const MODULES = process.env.STORE_BENCH_MODULES ?? join(process.cwd(), 'node_modules');
const require = createRequire(join(MODULES, 'noop.js'));

let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const shuffled = (n) => {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
};
const keyOf = (i) => Buffer.from(`k${String(i).padStart(15, '0')}`);
// Random values, so that a store's compression (LevelDB's and RocksDB's Snappy) does not flatter it.
const valueOf = () => randomBytes(64);
const writeOrder = shuffled(N);
const readOrder = shuffled(N);
const scanStarts = Array.from({ length: 1000 }, () => Math.floor(random() * (N - 100)));

function sizeOf(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, f) => sum + sizeOf(join(path, f)), 0);
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const now = () => process.hrtime.bigint();

/** Each store: open(dir) -> { write(entries), read(keys) -> values found, scanAll() -> count, scan(start, n) -> count, close() }. */
const STORES = {
  lmdb: async (dir) => {
    const db = require('lmdb').open({ path: dir, keyEncoding: 'binary', encoding: 'binary' });
    return {
      sync: true,
      write: (entries) => db.transactionSync(() => entries.forEach(([k, v]) => db.putSync(k, v))),
      read: (keys) => keys.filter((k) => db.get(k) !== undefined).length,
      scanAll: () => [...db.getRange({})].length,
      scan: (start, n) => [...db.getRange({ start, limit: n })].length,
      close: () => db.close(),
    };
  },
  'classic-level': async (dir) => {
    const { ClassicLevel } = require('classic-level');
    const db = new ClassicLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return {
      sync: true, // abstract-level 3's getSync; iterators are async only
      write: (entries) => db.batch(entries.map(([key, value]) => ({ type: 'put', key, value }))),
      read: (keys) => keys.filter((k) => db.getSync(k) !== undefined).length,
      scanAll: async () => (await db.iterator().all()).length,
      scan: async (start, n) => (await db.iterator({ gte: start, limit: n }).all()).length,
      close: () => db.close(),
    };
  },
  'better-sqlite3': async (dir) => {
    const Database = require('better-sqlite3');
    const db = new Database(join(dir, 'store.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID');
    const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
    const get = db.prepare('SELECT v FROM kv WHERE k = ?').pluck();
    const all = db.prepare('SELECT k, v FROM kv ORDER BY k');
    const range = db.prepare('SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT ?');
    return {
      sync: true,
      write: (entries) => db.transaction(() => entries.forEach(([k, v]) => put.run(k, v)))(),
      read: (keys) => keys.filter((k) => get.get(k) !== undefined).length,
      scanAll: () => [...all.iterate()].length,
      scan: (start, n) => range.all(start, n).length,
      close: () => db.close(),
    };
  },
  'rocksdb-native': async (dir) => {
    const RocksDB = require('rocksdb-native');
    const db = new RocksDB(dir);
    await db.ready();
    return {
      sync: false,
      write: async (entries) => {
        const w = db.write();
        for (const [k, v] of entries) w.put(k, v);
        await w.flush();
      },
      read: async (keys) => {
        let found = 0;
        for (let i = 0; i < keys.length; i += 1000) {
          const r = db.read();
          const ps = keys.slice(i, i + 1000).map((k) => r.get(k));
          r.tryFlush ? r.tryFlush() : r.flush();
          for (const v of await Promise.all(ps)) if (v !== null && v !== undefined) found++;
        }
        return found;
      },
      scanAll: async () => {
        let n = 0;
        for await (const _ of db.iterator({})) n++;
        return n;
      },
      scan: async (start, limit) => {
        let n = 0;
        for await (const _ of db.iterator({ gte: start, limit })) n++;
        return n;
      },
      // Its close() never settles under Node 20 (the package is made for the Bare runtime): wait 1 s at most.
      close: () => Promise.race([db.close(), new Promise((r) => setTimeout(r, 1000))]),
    };
  },
  '@nxtedition/rocksdb': async (dir) => {
    const { RocksLevel } = require('@nxtedition/rocksdb');
    const db = new RocksLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return {
      sync: false,
      write: (entries) => db.batch(entries.map(([key, value]) => ({ type: 'put', key, value }))),
      read: async (keys) => {
        let found = 0;
        for (let i = 0; i < keys.length; i += 1000) for (const v of await db.getMany(keys.slice(i, i + 1000))) if (v !== undefined) found++;
        return found;
      },
      scanAll: async () => (await db.iterator().all()).length,
      scan: async (start, n) => (await db.iterator({ gte: start, limit: n }).all()).length,
      close: () => db.close(),
    };
  },
};

const only = process.argv.slice(2);
console.log(`node ${process.version}, ${N} entries (16-byte keys, 64-byte values)`);
for (const [name, open] of Object.entries(STORES)) {
  if (only.length && !only.includes(name)) continue;
  const dir = mkdtempSync(join(tmpdir(), `store-bench-${name.replace(/\W/g, '')}-`));
  try {
    const store = await open(dir);
    const entries = writeOrder.map((i) => [keyOf(i), valueOf(i)]);
    let t = now();
    await store.write(entries);
    const writeMs = ms(t);
    t = now();
    const found = await store.read(readOrder.map(keyOf));
    const readMs = ms(t);
    if (found !== N) throw new Error(`read ${found} of ${N}`);
    t = now();
    const scanned = await store.scanAll();
    const scanAllMs = ms(t);
    if (scanned !== N) throw new Error(`scanned ${scanned} of ${N}`);
    t = now();
    for (const s of scanStarts) if ((await store.scan(keyOf(s), 100)) !== 100) throw new Error('short range scan');
    const scanMs = ms(t);
    await store.close();
    const mb = (sizeOf(dir) / 2 ** 20).toFixed(1);
    const perSec = (n, t) => `${Math.round(n / (t / 1000) / 1000)}k/s`;
    console.log(
      `${name.padEnd(20)} write ${perSec(N, writeMs).padStart(8)}  read ${perSec(N, readMs).padStart(8)} (${store.sync ? 'sync' : 'async'})  full scan ${scanAllMs.toFixed(0).padStart(5)} ms  1000 x 100-entry ranges ${scanMs.toFixed(0).padStart(5)} ms  on disk ${mb} MB`,
    );
  } catch (err) {
    console.log(`${name.padEnd(20)} not measured: ${err.code === 'MODULE_NOT_FOUND' ? `not installed under ${MODULES}` : err.message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(0); // a RocksDB binding may hold the event loop open
