// Windows without a broker: which windows a record falls in, late records dropped after the grace,
// suppress(untilWindowCloses) emitting once per closed window, and TimeWindowedSerde's bytes.
import { describe, expect, it } from 'vitest';
import { KeyValue, Produced, Serdes, StreamsBuilder, Suppressed, TimeWindows, TopologyTestDriver, WindowedSerdes } from '../../../src/streams/index.js';

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
});
