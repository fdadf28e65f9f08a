// The persistent store without a broker: writes reach LMDB at flush and survive a reopen, reads see
// pending writes first, clear() empties the disk too; the checkpoint file is Kafka's format, and a
// torn or foreign one reads as none (a full restore).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Serdes } from '../../../src/streams/index.js';
import { loadPersistentStores, PersistentKeyValueStore, readCheckpoint, writeCheckpoint } from '../../../src/streams/persistent-store.js';
import { tempDir } from '../../helpers/broker.js';

const S = Serdes.String();
const L = Serdes.Long();

describe('persistent key-value store', () => {
  beforeAll(() => loadPersistentStores());

  it('keeps flushed writes across a reopen, not the pending ones; reads see pending writes first', () => {
    const dir = join(tempDir('kts-lmdb-'), 'lmdb', 'counts');
    const a = new PersistentKeyValueStore<string, number>('counts', S, L, 'c', dir);
    a.put('x', 1);
    a.put('y', 2);
    expect(a.get('x')).toBe(1);
    a.flush();
    a.put('x', 3); // pending
    a.delete('y'); // pending
    expect([a.get('x'), a.get('y')]).toEqual([3, null]);
    expect(a.all()).toEqual([{ key: 'x', value: 3 }]);
    a.close();
    const b = new PersistentKeyValueStore<string, number>('counts', S, L, 'c', dir);
    expect(b.all()).toEqual([{ key: 'x', value: 1 }, { key: 'y', value: 2 }]);
    b.clear();
    expect(b.all()).toEqual([]);
    b.close();
  });

  it('keeps an empty key (LMDB refuses one as is; WordCount counts the empty word)', () => {
    const dir = join(tempDir('kts-lmdb-'), 'lmdb', 'counts');
    const a = new PersistentKeyValueStore<string, number>('counts', S, L, 'c', dir);
    a.put('', 1);
    a.put('a', 2);
    a.flush();
    a.close();
    const b = new PersistentKeyValueStore<string, number>('counts', S, L, 'c', dir);
    expect(b.get('')).toBe(1);
    expect(b.all()).toEqual([{ key: '', value: 1 }, { key: 'a', value: 2 }]);
    expect(b.range('', '')).toEqual([{ key: '', value: 1 }]); // both ends included, as Kafka's range
    expect(b.range('a', null)).toEqual([{ key: 'a', value: 2 }]);
    expect(b.range('b', 'z')).toEqual([]);
    b.close();
  });

  it("refuses at the put a key over LMDB's limit, saying what to do (LMDB itself would refuse it only at the commit)", () => {
    const a = new PersistentKeyValueStore<string, number>('counts', S, L, 'c', join(tempDir('kts-lmdb-'), 'lmdb', 'counts'));
    a.put('k'.repeat(1977), 1);
    a.flush();
    expect(a.get('k'.repeat(1977))).toBe(1);
    expect(() => a.put('k'.repeat(1978), 1)).toThrow('store counts: a key of 1978 bytes is over the 1977 bytes a persistent (LMDB) store takes; keep this store in memory (default.dsl.store=in_memory, or an in-memory store supplier)');
    a.close();
  });

  it("reads and writes Kafka's checkpoint format; a torn one is no checkpoint", () => {
    const dir = tempDir('kts-checkpoint-');
    writeCheckpoint(dir, [{ topic: 'app-counts-changelog', partition: 3, offset: 120 }]);
    expect(readCheckpoint(dir)).toEqual(new Map([['app-counts-changelog 3', 120]]));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.checkpoint'), '0\n2\napp-counts-changelog 3 120\n');
    expect(readCheckpoint(dir).size).toBe(0);
    writeFileSync(join(dir, '.checkpoint'), '1\n1\napp-counts-changelog 3 120\n');
    expect(readCheckpoint(dir).size).toBe(0);
    expect(readCheckpoint(join(dir, 'none')).size).toBe(0);
  });
});
