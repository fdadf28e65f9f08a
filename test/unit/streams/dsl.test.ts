// The Streams DSL run by the TopologyTestDriver (no broker): each operation's output, serdes that
// match Kafka's bytes, repartitioning through an internal topic, stores, and Kafka's node names.
import { describe, expect, it } from 'vitest';
import {
  Branched,
  Consumed,
  Grouped,
  KeyValue,
  Materialized,
  Named,
  Produced,
  Repartitioned,
  Serdes,
  Stores,
  StreamsBuilder,
  TopologyTestDriver,
  type KeyValueStore,
  type ProcessorContext,
} from '../../../src/streams/index.js';

const S = Serdes.String();
const L = Serdes.Long();

function wordCount(): StreamsBuilder {
  const builder = new StreamsBuilder();
  builder
    .stream<string, string>('streams-plaintext-input')
    .flatMapValues((line) => line.toLowerCase().split(' '))
    .groupBy((_key, word) => word)
    .count()
    .toStream()
    .to('streams-wordcount-output', Produced.with(S, L));
  return builder;
}

describe('TopologyTestDriver', () => {
  it('counts words through a repartition topic, every update emitted, state in the store', () => {
    const driver = new TopologyTestDriver(wordCount().build(), { 'application.id': 'wc' });
    const input = driver.createInputTopic('streams-plaintext-input', S, S);
    const output = driver.createOutputTopic('streams-wordcount-output', S, L);
    input.pipeInput('all streams lead to kafka');
    input.pipeInput('hello kafka streams');
    expect(output.readKeyValuesToList()).toEqual([
      { key: 'all', value: 1 },
      { key: 'streams', value: 1 },
      { key: 'lead', value: 1 },
      { key: 'to', value: 1 },
      { key: 'kafka', value: 1 },
      { key: 'hello', value: 1 },
      { key: 'kafka', value: 2 },
      { key: 'streams', value: 2 },
    ]);
    const store = driver.getKeyValueStore<string, number>('KSTREAM-AGGREGATE-STATE-STORE-0000000003')!;
    expect(store.get('kafka')).toBe(2);
    expect(store.all().map((e) => e.key)).toEqual(['all', 'hello', 'kafka', 'lead', 'streams', 'to']);
    expect(driver.producedTopicNames()).toContain('wc-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition');
    driver.close();
  });

  it("names nodes and splits sub-topologies at the repartition topic as Kafka's describe() does", () => {
    const text = wordCount().build().describe();
    expect(text).toContain('Sub-topology: 0');
    expect(text).toContain('Source: KSTREAM-SOURCE-0000000000 (topics: [streams-plaintext-input])');
    expect(text).toContain('Processor: KSTREAM-FLATMAPVALUES-0000000001');
    expect(text).toContain('Processor: KSTREAM-KEY-SELECT-0000000002');
    expect(text).toContain('Sink: KSTREAM-SINK-0000000005 (topic: KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition)');
    expect(text).toMatch(/Sub-topology: 1\n\s+Source: KSTREAM-SOURCE-0000000007 \(topics: \[KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition\]\)/);
    expect(text).toContain('Processor: KTABLE-TOSTREAM-0000000008');
    expect(text).toContain('(stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000003])');
    const subs = wordCount().build().subTopologies();
    expect(subs.map((s) => s.sourceTopics)).toEqual([['streams-plaintext-input'], ['KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition']]);
  });

  it('map, filter, filterNot, selectKey, flatMap, peek, merge, and mapValues as ValueMapper (value) and ValueMapperWithKey (readOnlyKey, value)', () => {
    const b = new StreamsBuilder();
    const seen: string[] = [];
    const a = b.stream<string, string>('a').filter((_k, v) => v !== 'drop').peek((k, v) => seen.push(`${k}=${v}`));
    const c = b.stream<string, string>('c').map((k, v) => KeyValue.pair(`${k}!`, v.toUpperCase()));
    a.merge(c)
      .filterNot((k) => k === 'skip')
      .mapValues((v) => `${v}1`)
      .mapValues((k: string, v: string) => `${k}:${v}`)
      .flatMap((k, v) => [[k, v], [`${k}2`, v]] as [string, string][])
      .selectKey((k) => k.toUpperCase())
      .to('out');
    const driver = new TopologyTestDriver(b.build());
    const inA = driver.createInputTopic('a', S, S);
    const inC = driver.createInputTopic('c', S, S);
    const out = driver.createOutputTopic('out', S, S);
    inA.pipeInput('x', 'v');
    inA.pipeInput('y', 'drop');
    inA.pipeInput('skip', 'v');
    inC.pipeInput('z', 'w');
    expect(out.readKeyValuesToList()).toEqual([
      { key: 'X', value: 'x:v1' },
      { key: 'X2', value: 'x:v1' },
      { key: 'Z!', value: 'z!:W1' },
      { key: 'Z!2', value: 'z!:W1' },
    ]);
    expect(seen).toEqual(['x=v', 'skip=v']);
  });

  it('split() with named branches and a default, and the older branch()', () => {
    const b = new StreamsBuilder();
    const branches = b
      .stream<string, number>('nums', Consumed.with(S, Serdes.Integer()))
      .split(Named.as('n-'))
      .branch((_k, v) => v < 0, Branched.as('negative'))
      .branch((_k, v) => v === 0, Branched.withConsumer((s) => s.to('zero', Produced.with(S, Serdes.Integer()))))
      .defaultBranch(Branched.as('positive'));
    expect([...branches.keys()]).toEqual(['n-negative', 'n-positive']);
    branches.get('n-negative')!.to('neg', Produced.with(S, Serdes.Integer()));
    const [small, big] = branches.get('n-positive')!.branch((_k, v) => v < 10, () => true);
    small.to('small', Produced.with(S, Serdes.Integer()));
    big.to('big', Produced.with(S, Serdes.Integer()));
    const driver = new TopologyTestDriver(b.build());
    const input = driver.createInputTopic('nums', S, Serdes.Integer());
    for (const v of [-1, 0, 5, 50, -7]) input.pipeInput('k', v);
    const read = (t: string) => driver.createOutputTopic(t, S, Serdes.Integer()).readValuesToList();
    expect(read('neg')).toEqual([-1, -7]);
    expect(read('zero')).toEqual([0]);
    expect(read('small')).toEqual([5]);
    expect(read('big')).toEqual([50]);
  });

  it('flatMapValues and KTable#mapValues take a ValueMapperWithKey (readOnlyKey, value) too, told apart by arity', () => {
    const b = new StreamsBuilder();
    b.stream<string, string>('s').flatMapValues((k: string, v: string) => [k, v]).to('out');
    b.table<string, string>('t').mapValues((k: string, v: string) => `${k}/${v}`).toStream().to('out-t');
    const driver = new TopologyTestDriver(b.build());
    driver.createInputTopic('s', S, S).pipeInput('k', 'v');
    driver.createInputTopic('t', S, S).pipeInput('a', 'b');
    expect(driver.createOutputTopic('out', S, S).readValuesToList()).toEqual(['k', 'v']);
    expect(driver.createOutputTopic('out-t', S, S).readValuesToList()).toEqual(['a/b']);
  });

  it('groupByKey + reduce and aggregate (JSON), table() with updates and deletes, KTable filter/mapValues', () => {
    const b = new StreamsBuilder();
    const grouped = b.stream<string, number>('amounts', Consumed.with(S, L)).groupByKey();
    grouped.reduce((x, y) => x + y, Materialized.as<string, number>('sums').withValueSerde(L)).toStream().to('sums', Produced.with(S, L));
    grouped
      .aggregate(() => ({ n: 0, max: -Infinity }), (_k, v, agg) => ({ n: agg.n + 1, max: Math.max(agg.max, v) }), Materialized.with(S, Serdes.JSON<{ n: number; max: number }>()))
      .toStream()
      .to('stats', Produced.with(S, Serdes.JSON()));
    b.table<string, string>('profiles', undefined, Materialized.as('profiles-store'))
      .filter((_k, v) => v.startsWith('ok'))
      .mapValues((v) => v.length)
      .toStream()
      .to('lengths', Produced.with(S, Serdes.Integer()));
    const driver = new TopologyTestDriver(b.build());
    const amounts = driver.createInputTopic('amounts', S, L);
    amounts.pipeInput('a', 5);
    amounts.pipeInput('b', 1);
    amounts.pipeInput('a', 7);
    amounts.pipeInput(null, 3); // null key: dropped by the aggregation, as Kafka does
    expect(driver.createOutputTopic('sums', S, L).readKeyValuesToMap()).toEqual(new Map([['a', 12], ['b', 1]]));
    expect(driver.createOutputTopic('stats', S, Serdes.JSON()).readKeyValuesToList()).toEqual([
      { key: 'a', value: { n: 1, max: 5 } },
      { key: 'b', value: { n: 1, max: 1 } },
      { key: 'a', value: { n: 2, max: 7 } },
    ]);
    expect(driver.getKeyValueStore('sums')!.get('a')).toBe(12);
    const profiles = driver.createInputTopic('profiles', S, S);
    profiles.pipeInput('u1', 'ok-alice');
    profiles.pipeInput('u2', 'bad');
    profiles.pipeInput('u1', 'ok-al');
    profiles.pipeInput('u1', null);
    expect(driver.createOutputTopic('lengths', S, Serdes.Integer()).readKeyValuesToList()).toEqual([
      { key: 'u1', value: 8 },
      { key: 'u1', value: 5 },
      { key: 'u1', value: null },
    ]);
    expect(driver.getKeyValueStore('profiles-store')!.all()).toEqual([{ key: 'u2', value: 'bad' }]);
  });

  it('groupBy with Grouped names the repartition topic; the Processor API reaches its store', () => {
    const b = new StreamsBuilder();
    b.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('last-seen'), S, L));
    b.stream<string, string>('events')
      .process(() => {
        let ctx!: ProcessorContext<string, string>;
        let store!: KeyValueStore<string, number>;
        return {
          init(c) {
            ctx = c;
            store = c.getStateStore('last-seen');
          },
          process(r) {
            const prev = store.get(r.key);
            store.put(r.key, r.timestamp);
            ctx.forward({ ...r, value: `${r.value}@${ctx.recordMetadata()!.offset}${prev === null ? '' : ` after ${prev}`}` });
          },
        };
      }, 'last-seen')
      .groupBy((_k, v) => v.split('@')[0], Grouped.as('by-value'))
      .count(Materialized.as('value-counts'))
      .toStream()
      .to('counts', Produced.with(S, L));
    const topology = b.build();
    expect(topology.describe()).toContain('Sink: by-value-repartition-sink (topic: by-value-repartition)');
    const driver = new TopologyTestDriver(topology, { 'application.id': 'app' });
    const events = driver.createInputTopic('events', S, S);
    events.pipeInput('k', 'e', 100);
    events.pipeInput('k', 'e', 200);
    expect(driver.getKeyValueStore('last-seen')!.get('k')).toBe(200);
    expect(driver.createOutputTopic('counts', S, L).readKeyValuesToList()).toEqual([
      { key: 'e', value: 1 },
      { key: 'e', value: 2 },
    ]);
    expect(driver.producedTopicNames()).toContain('app-by-value-repartition');
  });

  // Node lines of Kafka Streams 4.4's Topology#describe() for the same topologies (recorded from the
  // Java DSL): the repartition nodes use up indexes (sink, filter, source) even when they are named,
  // so the nodes and stores after them, and the internal topics named by them, are Kafka's.
  const nodes = (text: string) => (text.match(/(Source|Processor|Sink): \S+ \((topics?|stores): [^)]*\)/g) ?? []).sort();

  it("repartition() writes through a topic named as Kafka's (KSTREAM-REPARTITION-<n>-repartition, or Repartitioned's name), nodes named as Kafka 4.4's", () => {
    const b = new StreamsBuilder();
    const events = b.stream<string, string>('events');
    events.repartition().to('same');
    events
      .selectKey((_k, v) => v)
      .repartition(Repartitioned.with(S, S).withName('by-value').withNumberOfPartitions(3))
      .mapValues((v) => v.toUpperCase())
      .to('by-value-out');
    const topology = b.build();
    expect(nodes(topology.describe())).toEqual([
      'Processor: KSTREAM-FILTER-0000000003 (stores: [])',
      'Processor: KSTREAM-KEY-SELECT-0000000006 (stores: [])',
      'Processor: KSTREAM-MAPVALUES-0000000010 (stores: [])',
      'Processor: by-value-repartition-filter (stores: [])',
      'Sink: KSTREAM-SINK-0000000002 (topic: KSTREAM-REPARTITION-0000000001-repartition)',
      'Sink: KSTREAM-SINK-0000000005 (topic: same)',
      'Sink: KSTREAM-SINK-0000000011 (topic: by-value-out)',
      'Sink: by-value-repartition-sink (topic: by-value-repartition)',
      'Source: KSTREAM-SOURCE-0000000000 (topics: [events])',
      'Source: KSTREAM-SOURCE-0000000004 (topics: [KSTREAM-REPARTITION-0000000001-repartition])',
      'Source: by-value-repartition-source (topics: [by-value-repartition])',
    ]);
    const driver = new TopologyTestDriver(topology, { 'application.id': 'app' });
    const input = driver.createInputTopic('events', S, S);
    input.pipeInput('k1', 'a', 100);
    input.pipeInput('k2', 'b', 200);
    expect(driver.createOutputTopic('same', S, S).readKeyValuesToList()).toEqual([{ key: 'k1', value: 'a' }, { key: 'k2', value: 'b' }]);
    expect(driver.createOutputTopic('by-value-out', S, S).readKeyValuesToList()).toEqual([{ key: 'a', value: 'A' }, { key: 'b', value: 'B' }]);
    expect(driver.producedTopicNames()).toEqual(expect.arrayContaining(['app-KSTREAM-REPARTITION-0000000001-repartition', 'app-by-value-repartition']));
  });

  it("a second aggregation after a groupBy's repartition has Kafka 4.4's store, topic and node names", () => {
    const b = new StreamsBuilder();
    const s = b.stream<string, string>('in');
    s.flatMapValues((v) => v.split(' ')).groupBy((_k, v) => v).count().toStream().to('out', Produced.with(S, L));
    s.repartition().groupByKey().count().toStream().mapValues((v) => String(v)).to('out2');
    expect(nodes(b.build().describe())).toEqual([
      'Processor: KSTREAM-AGGREGATE-0000000004 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000003])',
      'Processor: KSTREAM-AGGREGATE-0000000015 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000014])',
      'Processor: KSTREAM-FILTER-0000000006 (stores: [])',
      'Processor: KSTREAM-FILTER-0000000012 (stores: [])',
      'Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])',
      'Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])',
      'Processor: KSTREAM-MAPVALUES-0000000017 (stores: [])',
      'Processor: KTABLE-TOSTREAM-0000000008 (stores: [])',
      'Processor: KTABLE-TOSTREAM-0000000016 (stores: [])',
      'Sink: KSTREAM-SINK-0000000005 (topic: KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition)',
      'Sink: KSTREAM-SINK-0000000009 (topic: out)',
      'Sink: KSTREAM-SINK-0000000011 (topic: KSTREAM-REPARTITION-0000000010-repartition)',
      'Sink: KSTREAM-SINK-0000000018 (topic: out2)',
      'Source: KSTREAM-SOURCE-0000000000 (topics: [in])',
      'Source: KSTREAM-SOURCE-0000000007 (topics: [KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition])',
      'Source: KSTREAM-SOURCE-0000000013 (topics: [KSTREAM-REPARTITION-0000000010-repartition])',
    ]);
  });
});

describe('Serdes', () => {
  it("write Kafka's bytes: Long 8 bytes big-endian, Integer 4, Double IEEE 754, String UTF-8", () => {
    expect(L.serialize('t', 258)!.toString('hex')).toBe('0000000000000102');
    expect(L.serialize('t', -1)!.toString('hex')).toBe('ffffffffffffffff');
    expect(Serdes.Integer().serialize('t', -2)!.toString('hex')).toBe('fffffffe');
    expect(Serdes.Double().serialize('t', 1.5)!.toString('hex')).toBe('3ff8000000000000');
    expect(S.serialize('t', 'é')!.toString('hex')).toBe('c3a9');
    expect(L.serialize('t', null)).toBeNull();
    expect(L.deserialize('t', null)).toBeNull();
  });

  it('refuse what would be wrong silently: a 4-byte Long, a Long past 2^53, a fraction for Integer', () => {
    expect(() => L.deserialize('t', Buffer.alloc(4))).toThrow('Size of data received by LongDeserializer is not 8');
    expect(() => L.deserialize('t', Buffer.from('7fffffffffffffff', 'hex'))).toThrow(/does not fit/);
    expect(() => Serdes.Integer().serialize('t', 1.5)).toThrow(/not a 32-bit integer/);
    const upper = Serdes.serdeFrom<string>((s) => Buffer.from(s.toUpperCase()), (b) => b.toString().toLowerCase());
    expect(upper.serialize('t', 'ab')!.toString()).toBe('AB');
    expect(upper.deserialize('t', Buffer.from('AB'))).toBe('ab');
  });
});
