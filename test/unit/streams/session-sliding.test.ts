// Session and sliding windows without a broker: the library gives, update for update, what Kafka
// Streams 4.4 wrote for the same input (recorded in test/e2e/streams/windows-oracle.ts, which the
// end-to-end windows test keeps checking against the Java app); merging sessions with a user's merger;
// sliding reduce; the windowed serdes' bytes; a window store rebuilt from what it logged.
import { describe, expect, it } from 'vitest';
import { KeyValue, Materialized, Produced, Serdes, SessionWindows, SlidingWindows, StreamsBuilder, TopologyTestDriver, WindowedSerdes, type KStream } from '../../../src/streams/index.js';
import { IndexedWindowStore, valueAndTimestampSerde } from '../../../src/streams/window-store.js';
import { EVENTS, SESSION_UPDATES, SLIDING_UPDATES, asWritten } from '../../e2e/streams/windows-oracle.js';

const S = Serdes.String();
const L = Serdes.Long();
const T0 = 1_800_000_000_000;

function run(build: (input: KStream<string, string>) => void, events: [string, number, string?][]): TopologyTestDriver {
  const b = new StreamsBuilder();
  build(b.stream<string, string>('in'));
  const driver = new TopologyTestDriver(b.build());
  const input = driver.createInputTopic('in', S, S);
  for (const [k, ms, v] of events) input.pipeInput(k, v ?? 'x', T0 + ms);
  return driver;
}

const written = (driver: TopologyTestDriver, topic: string) => driver.createOutputTopic(topic, S, L).readKeyValuesToList().map((kv) => [kv.key, kv.value]);
const windowKey = (wk: { key: string; window: { start: number; end: number } }) => `${wk.key}@${wk.window.start}-${wk.window.end}`;
const events = EVENTS.map(([k, s]) => [k, s * 1000] as [string, number]);

describe('session windows', () => {
  it("count: Kafka Streams 4.4's updates, merged sessions' tombstones and late drops included", () => {
    const driver = run((s) => s.groupByKey().windowedBy(SessionWindows.ofInactivityGapAndGrace(5_000, 5_000)).count().toStream().map((wk, v) => KeyValue.pair(windowKey(wk), v)).to('out', Produced.with(S, L)), events);
    expect(written(driver, 'out')).toEqual(asWritten(T0, SESSION_UPDATES));
  });

  it('aggregate merges sessions with the merger, and a record bridging two sessions joins them', () => {
    const b = new StreamsBuilder();
    b.stream<string, string>('in')
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 20))
      .aggregate(() => '', (_k, v, agg) => agg + v, (_k, a, b) => a + b, Materialized.with(S, S))
      .toStream()
      .map((wk, v) => KeyValue.pair(windowKey(wk), v))
      .to('out', Produced.with(S, S));
    const driver = new TopologyTestDriver(b.build());
    const input = driver.createInputTopic('in', S, S);
    input.pipeInput('k', 'a', 100);
    input.pipeInput('k', 'b', 120); // a new session: 20 > gap
    input.pipeInput('k', 'c', 110); // within the gap of both: merges [100,100] and [120,120]
    input.pipeInput('k', 'd', 160); // stream time 160: sessions ending before 160 - 20 - 10 have closed
    input.pipeInput('k', 'e', 125); // would extend [100,120], which has closed: dropped
    expect(driver.createOutputTopic('out', S, S).readKeyValuesToList()).toEqual([
      { key: 'k@100-100', value: 'a' },
      { key: 'k@120-120', value: 'b' },
      { key: 'k@100-100', value: null },
      { key: 'k@120-120', value: null },
      { key: 'k@100-120', value: 'abc' },
      { key: 'k@160-160', value: 'd' },
    ]);
  });

  it("writes session-windowed keys as Kafka's SessionWindowedSerde: the key, the end, then the start", () => {
    const serde = WindowedSerdes.sessionWindowedSerdeFrom(S);
    const bytes = serde.serialize('t', { key: 'k', window: { start: 1, end: 258 } })!;
    expect(bytes.toString('hex')).toBe('6b' + '0000000000000102' + '0000000000000001');
    expect(serde.deserialize('t', bytes)).toEqual({ key: 'k', window: { start: 1, end: 258 } });
  });
});

describe('sliding windows', () => {
  it("count: Kafka Streams 4.4's left and right windows, in its order", () => {
    const driver = run((s) => s.groupByKey().windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(5_000, 5_000)).count().toStream().map((wk, v) => KeyValue.pair(windowKey(wk), v)).to('out', Produced.with(S, L)), events);
    expect(written(driver, 'out')).toEqual(asWritten(T0, SLIDING_UPDATES));
  });

  it('reduce keeps each window to the records within the time difference of its end', () => {
    const driver = run(
      (s) => s.mapValues((v) => v).groupByKey().windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(10)).reduce((a, v) => `${a}+${v}`).toStream().map((wk, v) => KeyValue.pair(windowKey(wk), v)).to('out', Produced.with(S, S)),
      [['k', 100, '1'], ['k', 105, '2'], ['k', 130, '3']],
    );
    const out = driver.createOutputTopic('out', S, S).readKeyValuesToList().map((kv) => `${kv.key}=${kv.value}`);
    const w = (s: number, e: number) => `k@${T0 + s}-${T0 + e}`;
    expect(out).toEqual([`${w(90, 100)}=1`, `${w(101, 111)}=2`, `${w(95, 105)}=1+2`, `${w(120, 130)}=3`]);
  });
});

describe('window stores', () => {
  it('a store restored from the bytes it logged lists the same windows, and expired windows are not returned', () => {
    const logged: [Buffer, Buffer | null][] = [];
    const make = () => new IndexedWindowStore<string, { value: number; timestamp: number }>('s', S, valueAndTimestampSerde(L), 's-changelog', 'time', 10, 25);
    const a = make();
    a.logger = (k, v) => logged.push([k, v]);
    a.put({ key: 'k', window: { start: 0, end: 10 } }, { value: 1, timestamp: 5 });
    a.put({ key: 'k', window: { start: 20, end: 30 } }, { value: 2, timestamp: 22 });
    a.put({ key: 'j', window: { start: 20, end: 30 } }, { value: 3, timestamp: 21 });
    a.delete({ key: 'j', window: { start: 20, end: 30 } });
    const b = make();
    for (const [k, v] of logged) b.putBytes(k, v);
    expect(b.windowsOf('k')).toEqual(a.windowsOf('k'));
    expect(b.windowsOf('k').map((w) => w.key.window.start)).toEqual([0, 20]);
    expect(b.windowsOf('j')).toEqual([]);
    b.put({ key: 'k', window: { start: 30, end: 40 } }, { value: 1, timestamp: 31 }); // observed 30: start 0 is past retention 25
    expect(b.windowsOf('k').map((w) => w.key.window.start)).toEqual([20, 30]);
    expect(b.approximateNumEntries()).toBe(2);
    b.put({ key: 'old', window: { start: 25, end: 35 } }, { value: 1, timestamp: 25 });
    b.put({ key: 'k', window: { start: 60, end: 70 } }, { value: 1, timestamp: 60 }); // observed 60: starts below 36 expire
    b.sweep(); // a key never looked up again goes too
    expect(b.approximateNumEntries()).toBe(1);
  });
});
