// Persistent window and session stores (Kafka's Stores.persistentWindowStore / persistentSessionStore,
// segmented, here on LMDB) through the TopologyTestDriver: the same updates as Kafka Streams 4.4 wrote
// (the oracle the in-memory stores are held to), the stores' contents kept on disk across a new
// driver on the same state.dir, segments past retention dropped, interactive queries (fetch(key,
// from, to), fetchAll, a session's fetch / findSessions / fetchSession), default.dsl.store=rocksDB
// choosing them for a named windowed aggregation, and the Processor API's window store builders.
import { describe, expect, it } from 'vitest';
import {
  KeyValue,
  Materialized,
  Produced,
  Serdes,
  SessionWindows,
  SlidingWindows,
  Stores,
  StreamsBuilder,
  TimeWindows,
  TopologyTestDriver,
  type KStream,
  type Processor,
  type ProcessorContext,
  type StreamRecord,
} from '../../../src/streams/index.js';
import { PersistentWindowStore } from '../../../src/streams/persistent-window-store.js';
import type { KeyValueStore } from '../../../src/streams/processor.js';
import { tempDir } from '../../helpers/broker.js';
import { EVENTS, SESSION_UPDATES, SLIDING_UPDATES, asWritten } from '../../e2e/streams/windows-oracle.js';

const S = Serdes.String();
const L = Serdes.Long();
const T0 = 1_800_000_000_000;
const events = EVENTS.map(([k, s]) => [k, s * 1000] as [string, number]);
const windowKey = (wk: { key: string; window: { start: number; end: number } }) => `${wk.key}@${wk.window.start}-${wk.window.end}`;

/** Pipes the input; with `flushEvery`, the stores are written to disk every that many records, so that reads mix disk and overlay. */
function run(build: (input: KStream<string, string>) => void, input: [string, number][], props: Record<string, unknown>, flushEvery = 0): TopologyTestDriver {
  const b = new StreamsBuilder();
  build(b.stream<string, string>('in'));
  const driver = new TopologyTestDriver(b.build(), props);
  const topic = driver.createInputTopic('in', S, S);
  input.forEach(([k, ms], i) => {
    topic.pipeInput(k, 'x', T0 + ms);
    if (flushEvery && i % flushEvery === 0) driver.flush();
  });
  return driver;
}
const written = (driver: TopologyTestDriver) => driver.createOutputTopic('out', S, L).readKeyValuesToList().map((kv) => [kv.key, kv.value]);

describe('persistent window stores', () => {
  it("a windowed count on Stores.persistentWindowStore writes Kafka's updates, keeps its windows on disk, and answers fetch / fetchAll", () => {
    const stateDir = tempDir('kts-pws-');
    const windows = TimeWindows.ofSizeAndGrace(10_000, 5_000).advanceBy(5_000);
    const count = (s: KStream<string, string>) =>
      s.groupByKey().windowedBy(windows).count(Materialized.as(Stores.persistentWindowStore('counts', 60_000, 10_000))).toStream().map((wk, v) => KeyValue.pair(windowKey(wk), v)).to('out', Produced.with(S, L));
    const memory = run((s) => s.groupByKey().windowedBy(windows).count(Materialized.as(Stores.inMemoryWindowStore('counts', 60_000, 10_000))).toStream().map((wk, v) => KeyValue.pair(windowKey(wk), v)).to('out', Produced.with(S, L)), events, {});
    const disk = run(count, events, { 'state.dir': stateDir }, 2);
    expect(disk.getWindowStore('counts')).toBeInstanceOf(PersistentWindowStore);
    expect(memory.getWindowStore('counts')).not.toBeInstanceOf(PersistentWindowStore);
    const updates = written(memory);
    expect(written(disk)).toEqual(updates);
    expect(updates.length).toBeGreaterThan(20);

    const store = disk.getWindowStore<string, number>('counts')!;
    // Key a's windows starting in [T0, T0 + 20 s]; observed time is T0 + 60 s, retention 60 s: all live.
    const inMemory = memory.getWindowStore<string, number>('counts')!;
    // Key a's windows starting in [T0, T0 + 20 s]: observed time T0 + 60 s, retention 60 s: [T0, T0 + 10 s) has expired.
    expect(store.fetch('a', T0, T0 + 20_000)).toEqual(inMemory.fetch('a', T0, T0 + 20_000));
    expect(store.fetch('a', T0, T0 + 20_000).map((e) => e.key)).toEqual([5, 10, 15, 20].map((s) => T0 + s * 1000));
    expect(store.fetch('a', T0 + 15_000)).toBe(inMemory.fetch('a', T0 + 15_000));
    expect(store.fetch('a', T0 + 15_000)).toBe(2); // 16 and 21 s
    expect(store.fetch('a', T0 + 1)).toBeNull();
    expect(store.backwardFetch('a', T0, T0 + 20_000).map((e) => e.key)).toEqual([20, 15, 10, 5].map((s) => T0 + s * 1000));
    const all = (d: TopologyTestDriver) => d.getWindowStore<string, number>('counts')!.fetchAll(T0 + 10_000, T0 + 30_000).map((e) => `${windowKey(e.key)}=${e.value}`).sort();
    expect(all(disk)).toEqual(all(memory));
    expect(all(disk).length).toBeGreaterThan(5);
    disk.flush();
    disk.close();
    memory.close();

    // A new driver on the same state.dir opens the same LMDB store: every window is still there.
    const again = run(count, [], { 'state.dir': stateDir });
    expect(all(again)).toEqual(all(memory));
    expect(again.getWindowStore<string, number>('counts')!.fetch('a', T0 + 15_000)).toBe(2);
    again.close();
  });

  it('drops whole segments once they are past retention, and never returns a window past it', () => {
    const retention = 120_000; // segments of max(120 s / 2, 60 s) = 60 s
    const b = new StreamsBuilder();
    b.stream<string, string>('in').groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(10_000)).count(Materialized.as(Stores.persistentWindowStore('counts', retention, 10_000)));
    const driver = new TopologyTestDriver(b.build(), { 'state.dir': tempDir('kts-pws-') });
    const input = driver.createInputTopic('in', S, S);
    const store = driver.getWindowStore<string, number>('counts') as unknown as PersistentWindowStore<string, number> & { fetch(k: string, t: number): number | null };
    expect(store.segmentIntervalMs).toBe(60_000);
    for (let t = 0; t < 300_000; t += 10_000) input.pipeInput(`k${t}`, 'x', t);
    driver.flush();
    // Observed time 290 s: windows starting after 170 s live, in segments 2 (120-180 s), 3 and 4.
    expect(store.segmentIds()).toEqual([2, 3, 4]);
    expect(store.segmentName(2)).toBe('counts.120000');
    expect(store.fetch('k170000', 170_000)).toBeNull(); // in a live segment, but past retention
    expect(store.fetch('k180000', 180_000)).toBe(1);
    expect(store.approximateNumEntries()).toBe(18); // 120..290 s: the dropped segments' 12 windows are gone
    expect(store.fetchAll(0, 400_000).map((e) => e.key.window.start)).toEqual(Array.from({ length: 12 }, (_, i) => 180_000 + i * 10_000));
    input.pipeInput('late', 'x', 100_000); // a window already past retention is not stored
    expect(store.fetch('late', 100_000)).toBeNull();
    input.pipeInput('k', 'x', 420_000);
    driver.flush();
    expect(store.segmentIds()).toEqual([7]); // 2-4 dropped; segment 5, the oldest that may hold live windows, has none
    driver.close();
  });

  it("a sliding window count on a persistent store writes Kafka's updates", () => {
    const driver = run(
      (s) => s.groupByKey().windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(5_000, 5_000)).count().toStream().map((wk, v) => KeyValue.pair(windowKey(wk), v)).to('out', Produced.with(S, L)),
      events,
      { 'state.dir': tempDir('kts-pws-'), 'default.dsl.store': 'rocksDB' },
      2,
    );
    expect(written(driver)).toEqual(asWritten(T0, SLIDING_UPDATES));
    const [name] = driver['tasks'][0].stores.keys();
    expect(driver.getWindowStore(name)).toBeInstanceOf(PersistentWindowStore);
    driver.close();
  });

  it("a named windowed aggregation is persistent by default (Kafka's default.dsl.store=rocksDB), in memory with in_memory; a supplier of the wrong kind or size is refused", () => {
    const b = new StreamsBuilder();
    b.stream<string, string>('in').groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count(Materialized.as('named'));
    for (const [props, persistent] of [[{}, true], [{ 'default.dsl.store': 'rocksDB' }, true], [{ 'default.dsl.store': 'in_memory' }, false]] as const) {
      const driver = new TopologyTestDriver(b.build(), props);
      expect(driver.getWindowStore('named') instanceof PersistentWindowStore).toBe(persistent);
      driver.close();
    }
    const grouped = () => new StreamsBuilder().stream<string, string>('in').groupByKey();
    expect(() => grouped().windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count(Materialized.as(Stores.persistentSessionStore('s', 100)))).toThrow(/needs a window store supplier/);
    expect(() => grouped().windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count(Materialized.as(Stores.persistentWindowStore('w', 100, 20)))).toThrow(/window size \(20 ms\) differs/);
    expect(() => grouped().windowedBy(TimeWindows.ofSizeAndGrace(10, 100)).count(Materialized.as(Stores.persistentWindowStore('w', 100, 10)))).toThrow(/must be no smaller than its window size plus the grace period/);
    expect(() => grouped().windowedBy(SessionWindows.ofInactivityGapWithNoGrace(10)).count(Materialized.as(Stores.persistentWindowStore('w', 100, 10)))).toThrow(/needs a session store supplier/);
    expect(() => Stores.persistentWindowStore('w', 10, 20)).toThrow(/no smaller than its window size/);
  });

  it('the Processor API: a persistent timestamped window store from its builder, put(key, value, windowStart) and fetch', () => {
    const topology = new StreamsBuilder().build();
    topology.addSource('src', 'in');
    topology.addProcessor('last', () => {
      let store: KeyValueStore<unknown, unknown> & { put(k: string, v: string, start: number): void };
      return {
        init(ctx: ProcessorContext) {
          store = ctx.getStateStore('last');
        },
        process(r: StreamRecord<string, string>) {
          store.put(r.key, { value: r.value, timestamp: r.timestamp } as never, r.timestamp - (r.timestamp % 100));
        },
      } as Processor<string, string>;
    }, 'src');
    topology.addStateStore(Stores.timestampedWindowStoreBuilder(Stores.persistentTimestampedWindowStore('last', 1_000, 100), S, S), 'last');
    const driver = new TopologyTestDriver(topology, { 'state.dir': tempDir('kts-pws-') });
    const input = driver.createInputTopic('in', S, S);
    input.pipeInput('k', 'a', 150);
    input.pipeInput('k', 'b', 160);
    input.pipeInput('k', 'c', 420);
    const store = driver.getWindowStore<string, string>('last')!;
    expect(store).toBeInstanceOf(PersistentWindowStore);
    expect(store.fetch('k', 0, 1_000)).toEqual([{ key: 100, value: 'b' }, { key: 400, value: 'c' }]);
    // LMDB's key limit (1978 bytes) less the 4-byte length and the 8-byte window start.
    const put = (k: string) => (store as unknown as { put(k: string, v: unknown, start: number): void }).put(k, { value: 'x', timestamp: 500 }, 500);
    put('k'.repeat(1966));
    driver.flush(); // LMDB takes it
    expect(store.fetch('k'.repeat(1966), 500)).toBe('x');
    expect(() => put('k'.repeat(1967))).toThrow(/store last: a key of 1967 bytes is over the 1966 bytes a persistent \(LMDB\) store takes/);
    driver.close();
  });
});

describe('persistent session stores', () => {
  it("a session count on Stores.persistentSessionStore writes Kafka's updates (merges' tombstones included) and answers fetch / findSessions / fetchSession", () => {
    const stateDir = tempDir('kts-pss-');
    const count = (s: KStream<string, string>) =>
      s.groupByKey().windowedBy(SessionWindows.ofInactivityGapAndGrace(5_000, 5_000)).count(Materialized.as(Stores.persistentSessionStore('sessions', 20_000))).toStream().map((wk, v) => KeyValue.pair(windowKey(wk), v)).to('out', Produced.with(S, L));
    const driver = run(count, events, { 'state.dir': stateDir }, 3);
    expect(written(driver)).toEqual(asWritten(T0, SESSION_UPDATES));
    const store = driver.getSessionStore<string, number>('sessions')!;
    expect(store).toBeInstanceOf(PersistentWindowStore);
    // Observed session end T0 + 60 s, retention 20 s: a's sessions ending after T0 + 40 s are live.
    const sessions = (list: { key: { key: string; window: { start: number; end: number } }; value: number }[]) => list.map((e) => `${windowKey(e.key)}=${e.value}`);
    expect(sessions(store.fetch('a'))).toEqual([`a@${T0 + 45_000}-${T0 + 45_000}=1`, `a@${T0 + 60_000}-${T0 + 60_000}=1`]);
    expect(sessions(store.findSessions('a', T0 + 50_000, T0 + 70_000))).toEqual([`a@${T0 + 60_000}-${T0 + 60_000}=1`]);
    expect(store.fetchSession('a', T0 + 45_000, T0 + 45_000)).toBe(1);
    expect(store.fetchSession('a', T0 + 45_000, T0 + 46_000)).toBeNull();
    expect(store.fetch('b')).toEqual([]); // b's last session ended at 26 s: past retention
    driver.flush();
    driver.close();

    const again = run(count, [], { 'state.dir': stateDir });
    expect(sessions(again.getSessionStore<string, number>('sessions')!.fetch('a'))).toEqual([`a@${T0 + 45_000}-${T0 + 45_000}=1`, `a@${T0 + 60_000}-${T0 + 60_000}=1`]);
    again.close();
  });
});
