// Windows without a broker: which windows a record falls in, late records dropped after the grace,
// suppress(untilWindowCloses) emitting once per closed window, TimeWindowedSerde's bytes, and the
// window store's retention (size + grace, or withRetention): expired windows are neither read nor kept.
import { describe, expect, it } from 'vitest';
import { KeyValue, Materialized, Produced, Serdes, StreamsBuilder, Suppressed, TimeWindows, TopologyTestDriver, WindowedSerdes } from '../../../src/streams/index.js';

const S = Serdes.String();
const L = Serdes.Long();

describe('time windows', () => {
  it("hopping windows hold a timestamp in every window starting at a multiple of the advance (Kafka's windowsFor)", () => {
    const w = TimeWindows.ofSizeAndGrace(10, 5).advanceBy(5);
    expect(w.windowsFor(12)).toEqual([{ start: 5, end: 15 }, { start: 10, end: 20 }]);
    expect(w.windowsFor(3)).toEqual([{ start: 0, end: 10 }]);
    expect(TimeWindows.ofSizeWithNoGrace(10).windowsFor(19)).toEqual([{ start: 10, end: 20 }]);
    expect(() => TimeWindows.ofSizeWithNoGrace(10).advanceBy(11)).toThrow(/advancement interval/);
  });

  it('counts per window, drops records after the grace, and suppress emits each closed window once', () => {
    const b = new StreamsBuilder();
    const windowed = b.stream<string, string>('in').groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(10_000, 2_000)).count();
    windowed.toStream().map((wk, v) => KeyValue.pair(`${wk.key}@${wk.window.start}`, v)).to('updates', Produced.with(S, L));
    windowed
      .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
      .toStream()
      .map((wk, v) => KeyValue.pair(`${wk.key}@${wk.window.start}`, v))
      .to('final', Produced.with(S, L));
    const driver = new TopologyTestDriver(b.build());
    const input = driver.createInputTopic('in', S, S);
    input.pipeInput('a', 'x', 1_000);
    input.pipeInput('a', 'x', 9_000);
    input.pipeInput('a', 'x', 11_000); // stream time 11 s: [0, 10 s) closes at 12 s
    input.pipeInput('a', 'x', 5_000); // late but within the grace: counted
    input.pipeInput('a', 'x', 12_000); // [0, 10 s) closes: its final count goes out
    input.pipeInput('a', 'x', 6_000); // after the grace: dropped
    input.pipeInput('a', 'x', 25_000);
    expect(driver.createOutputTopic('updates', S, L).readKeyValuesToList()).toEqual([
      { key: 'a@0', value: 1 },
      { key: 'a@0', value: 2 },
      { key: 'a@10000', value: 1 },
      { key: 'a@0', value: 3 },
      { key: 'a@10000', value: 2 },
      { key: 'a@20000', value: 1 },
    ]);
    expect(driver.createOutputTopic('final', S, L).readKeyValuesToList()).toEqual([
      { key: 'a@0', value: 3 },
      { key: 'a@10000', value: 2 },
    ]);
  });

  it("writes windowed keys as Kafka's TimeWindowedSerde: the key's bytes then the start as 8 bytes", () => {
    const serde = WindowedSerdes.timeWindowedSerdeFrom(S, 10_000);
    const bytes = serde.serialize('t', { key: 'k', window: { start: 258, end: 10_258 } })!;
    expect(bytes.toString('hex')).toBe('6b' + '0000000000000102');
    expect(serde.deserialize('t', bytes)).toEqual({ key: 'k', window: { start: 258, end: 10_258 } });
  });

  function countsIn(windows: TimeWindows, materialized = Materialized.as<string, number>('counts'), props: Record<string, unknown> = {}) {
    const b = new StreamsBuilder();
    b.stream<string, string>('in').groupByKey().windowedBy(windows).count(materialized);
    const driver = new TopologyTestDriver(b.build(), props);
    return { input: driver.createInputTopic('in', S, S), store: driver.getKeyValueStore<{ key: string; window: { start: number; end: number } }, number>('counts')! };
  }

  it('a window past the retention (size + grace by default) is no longer read, as Kafka\'s window store fetch', () => {
    const { input, store } = countsIn(TimeWindows.ofSizeAndGrace(10, 5).advanceBy(5)); // retention 15
    input.pipeInput('a', 'x', 3);
    const a0 = { key: 'a', window: { start: 0, end: 10 } };
    expect(store.get(a0)).toBe(1);
    input.pipeInput('b', 'x', 15); // observed 15: start 0 > 15 - 15 is false, so [0, 10) has expired
    expect(store.get(a0)).toBeNull();
    expect(store.all().map((e) => `${e.key.key}@${e.key.window.start}`)).toEqual(['b@10', 'b@15']);
  });

  it('withRetention keeps windows readable longer, and may not be shorter than size + grace', () => {
    const { input, store } = countsIn(TimeWindows.ofSizeWithNoGrace(10), Materialized.as<string, number>('counts').withRetention(100));
    const a0 = { key: 'a', window: { start: 0, end: 10 } };
    input.pipeInput('a', 'x', 3);
    input.pipeInput('b', 'x', 99);
    expect(store.get(a0)).toBe(1);
    input.pipeInput('b', 'x', 100);
    expect(store.get(a0)).toBeNull();
    expect(() => countsIn(TimeWindows.ofSizeAndGrace(10, 5), Materialized.as<string, number>('counts').withRetention(14))).toThrow(
      'The retention period of the window store counts must be no smaller than its window size plus the grace period. Got size=[10], grace=[5], retention=[14]',
    );
  });

  it('expired windows of keys never seen again are dropped from memory (bounded by the sweep every 10k puts)', () => {
    // The in-memory store's sweep (a persistent store drops whole segments instead: persistent-window-store.test.ts).
    const { input, store } = countsIn(TimeWindows.ofSizeWithNoGrace(10), undefined, { 'default.dsl.store': 'in_memory' });
    for (let i = 0; i < 25_000; i++) input.pipeInput(`k${i}`, 'x', i * 10);
    // Without expiry the store holds all 25,000 windows; a sweep at 20,000 puts leaves the 5,000 since.
    expect(store.approximateNumEntries()).toBeLessThanOrEqual(5_001);
    expect(store.all()).toEqual([{ key: { key: 'k24999', window: { start: 249_990, end: 250_000 } }, value: 1 }]);
  });
});
