// Joins run by the TopologyTestDriver (no broker), each expected output worked out by hand from Kafka
// Streams' rules (KStreamKTableJoin, KTableKTable{Inner,Left,Outer,Right}Join, KStreamKStreamJoin with
// KIP-633's held-back unmatched records, KStreamGlobalKTableJoin).
import { describe, expect, it } from 'vitest';
import {
  Joined,
  JoinWindows,
  Materialized,
  Named,
  Produced,
  Serdes,
  StreamJoined,
  StreamsBuilder,
  TopologyTestDriver,
  type KStream,
} from '../../../src/streams/index.js';
import { InMemoryKeyValueStore } from '../../../src/streams/processor.js';
import { JoinWindowStore } from '../../../src/streams/join-stores.js';

const S = Serdes.String();
const show = (a: unknown, b: unknown) => `${a}+${b}`;

function run(builder: StreamsBuilder, outTopic = 'out') {
  const driver = new TopologyTestDriver(builder.build(), { 'application.id': 'joins' });
  const out = driver.createOutputTopic(outTopic, S, S);
  return {
    driver,
    input: (topic: string) => driver.createInputTopic(topic, S, S),
    read: () => out.readRecordsToList().map((r) => [r.key, r.value, r.timestamp]),
  };
}

describe('KStream-KTable join', () => {
  for (const left of [false, true]) {
    it(left ? 'leftJoin: every stream record, null where the table has no value; a null key passes' : 'join: stream records whose key the table holds; table updates emit nothing', () => {
      const b = new StreamsBuilder();
      const table = b.table('t');
      const stream = b.stream('s');
      (left ? stream.leftJoin(table, show) : stream.join(table, show)).to('out');
      const { driver, input, read } = run(b);
      const t = input('t');
      const s = input('s');
      t.pipeInput('k1', 't1', 1);
      s.pipeInput('k1', 'a', 2);
      s.pipeInput('k2', 'b', 3);
      s.pipeInput('k1', null, 4); // a null value is dropped by both
      s.pipeInput(null, 'c', 5);
      t.pipeInput('k1', null, 6); // deleted from the table
      s.pipeInput('k1', 'd', 7);
      t.pipeInput('k2', 't2', 8);
      s.pipeInput('k2', 'e', 9);
      expect(read()).toEqual(
        left
          ? [['k1', 'a+t1', 2], ['k2', 'b+null', 3], [null, 'c+null', 5], ['k1', 'd+null', 7], ['k2', 'e+t2', 9]]
          : [['k1', 'a+t1', 2], ['k2', 'e+t2', 9]],
      );
      expect(b.build().describe()).toContain(left ? 'Processor: KSTREAM-LEFTJOIN-0000000004 (stores: [t-STATE-STORE-0000000000])' : 'Processor: KSTREAM-JOIN-0000000004 (stores: [t-STATE-STORE-0000000000])');
      driver.close();
    });
  }

  it('a ValueJoinerWithKey (three parameters) gets the read-only key first', () => {
    const b = new StreamsBuilder();
    const table = b.table('t');
    b.stream('s').join(table, (key: string, v: string, tv: string) => `${key}:${v}:${tv}`).to('out');
    const { input, read } = run(b);
    input('t').pipeInput('k', 'T', 1);
    input('s').pipeInput('k', 'v', 2);
    expect(read()).toEqual([['k', 'k:v:T', 2]]);
  });

  it('after a key change, the stream goes through a repartition topic named after the node before the join', () => {
    const b = new StreamsBuilder();
    const table = b.table('t');
    b.stream('s')
      .selectKey((_k, v: string) => v.split(':')[0])
      .join(table, show, Joined.with(S, S, S))
      .to('out');
    const topology = b.build();
    const text = topology.describe();
    expect(text).toContain('Sink: KSTREAM-SINK-0000000005 (topic: KSTREAM-KEY-SELECT-0000000004-repartition)');
    expect(text).toContain('Source: KSTREAM-SOURCE-0000000007 (topics: [KSTREAM-KEY-SELECT-0000000004-repartition])');
    expect(topology.subTopologies().map((s) => s.sourceTopics.sort())).toEqual([['KSTREAM-KEY-SELECT-0000000004-repartition', 't'], ['s']]);
    expect(topology.copartitionGroups).toEqual([['KSTREAM-KEY-SELECT-0000000004-repartition', 't']]);
    const { driver, input, read } = run(b);
    input('t').pipeInput('x', 'X', 1);
    input('s').pipeInput('whatever', 'x:1', 2);
    input('s').pipeInput('whatever', 'y:2', 3);
    expect(read()).toEqual([['x', 'x:1+X', 2]]);
    expect(driver.producedTopicNames()).toContain('joins-KSTREAM-KEY-SELECT-0000000004-repartition');
  });
});

describe('KTable-KTable join', () => {
  const cases: Record<'join' | 'leftJoin' | 'outerJoin', (string | number | null)[][]> = {
    join: [['k1', 'l1+r1', 20], ['k1', 'l2+r1', 30], ['k1', null, 40]],
    leftJoin: [['k1', 'l1+null', 10], ['k1', 'l1+r1', 20], ['k1', 'l2+r1', 30], ['k1', 'l2+null', 40], ['k2', 'x+null', 50], ['k2', null, 70]],
    outerJoin: [['k1', 'l1+null', 10], ['k1', 'l1+r1', 20], ['k1', 'l2+r1', 30], ['k1', 'l2+null', 40], ['k2', 'x+null', 50], ['k3', 'null+r3', 60], ['k2', null, 70]],
  };
  for (const [op, expected] of Object.entries(cases)) {
    it(`${op}: each side's update looks up the other; the result carries the later timestamp`, () => {
      const b = new StreamsBuilder();
      const l = b.table('lt');
      const r = b.table('rt');
      (l as any)[op](r, show).toStream().to('out');
      const { input, read } = run(b);
      const lt = input('lt');
      const rt = input('rt');
      lt.pipeInput('k1', 'l1', 10);
      rt.pipeInput('k1', 'r1', 20);
      lt.pipeInput('k1', 'l2', 30);
      rt.pipeInput('k1', null, 40);
      lt.pipeInput('k2', 'x', 50);
      rt.pipeInput('k3', 'r3', 60);
      lt.pipeInput('k2', null, 70);
      expect(read()).toEqual(expected);
      const text = b.build().describe();
      expect(text).toContain('Processor: KTABLE-JOINTHIS-0000000007 (stores: [rt-STATE-STORE-0000000003])');
      expect(text).toContain('Processor: KTABLE-JOINOTHER-0000000008 (stores: [lt-STATE-STORE-0000000000])');
      expect(text).toContain('Processor: KTABLE-MERGE-0000000006');
    });
  }

  it('a materialized result is queryable, and a table derived by mapValues joins through its parent', () => {
    const b = new StreamsBuilder();
    const l = b.table('lt').mapValues((v: string) => v.toUpperCase());
    const r = b.table('rt');
    l.join(r, show, Materialized.as('joined')).toStream().to('out');
    const { driver, input, read } = run(b);
    input('lt').pipeInput('k', 'a', 1);
    input('rt').pipeInput('k', 'b', 2);
    expect(read()).toEqual([['k', 'A+b', 2]]);
    expect(driver.getKeyValueStore('joined')!.get('k')).toBe('A+b');
  });
});

describe('KStream-KStream join', () => {
  function streams(op: 'join' | 'leftJoin' | 'outerJoin', windows: JoinWindows) {
    const b = new StreamsBuilder();
    const l = b.stream('ls');
    const r = b.stream('rs');
    (l as any)[op](r, show, windows).to('out');
    const { driver, input, read } = run(b);
    return { b, driver, left: input('ls'), right: input('rs'), read };
  }

  it('join: records of both sides at most the time difference apart, the later timestamp on the result', () => {
    const { b, left, right, read } = streams('join', JoinWindows.ofTimeDifferenceWithNoGrace(100));
    left.pipeInput('k1', 'a', 0);
    right.pipeInput('k1', 'b', 100); // 100 apart: joins
    right.pipeInput('k1', 'c', 201); // 201 apart: does not
    left.pipeInput('k1', 'd', 250); // joins b? 150 apart: no; c: 49 apart: yes
    right.pipeInput('k2', 'e', 260);
    left.pipeInput('k1', 'f', 150); // out of order: b (50) and c (51) are both within 100
    expect(read()).toEqual([['k1', 'a+b', 100], ['k1', 'd+c', 250], ['k1', 'f+b', 150], ['k1', 'f+c', 201]]);
    const text = b.build().describe();
    for (const n of ['KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])', 'KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-JOINOTHER-0000000005-store])', 'KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-JOINOTHER-0000000005-store])', 'KSTREAM-JOINOTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store])', 'KSTREAM-MERGE-0000000006']) {
      expect(text).toContain(`Processor: ${n}`);
    }
  });

  it('leftJoin: an unmatched left record is emitted with null only once its window has closed, never if a partner came (KIP-633)', () => {
    const { left, right, read } = streams('leftJoin', JoinWindows.ofTimeDifferenceWithNoGrace(100));
    left.pipeInput('k1', 'a1', 0);
    expect(read()).toEqual([]); // held: a partner may still come
    right.pipeInput('k1', 'b1', 50);
    left.pipeInput('k2', 'a2', 120);
    expect(read()).toEqual([['k1', 'a1+b1', 50]]); // a1 found b1: no a1+null ever
    left.pipeInput('k3', 'a3', 220); // stream time 220 = 120 + 100: a2's window is still open
    expect(read()).toEqual([]);
    left.pipeInput('k3', 'a4', 221); // now it has closed
    expect(read()).toEqual([['k2', 'a2+null', 120]]);
    right.pipeInput('k9', 'b9', 230); // a right record alone is never emitted by a left join
    left.pipeInput('k4', 'a5', 400);
    expect(read()).toEqual([['k3', 'a3+null', 220], ['k3', 'a4+null', 221]]);
  });

  it('leftJoin: a record already behind the closed windows is emitted with null at once; grace delays the emission', () => {
    const { left, read } = streams('leftJoin', JoinWindows.ofTimeDifferenceAndGrace(100, 50));
    left.pipeInput('k1', 'a1', 1000);
    left.pipeInput('k2', 'a2', 800); // 800 + 100 < 1000: its window closed before it came
    expect(read()).toEqual([['k2', 'a2+null', 800]]);
    left.pipeInput('k3', 'a3', 1150); // 1000 + 100 + 50 = 1150: not closed yet
    expect(read()).toEqual([]);
    left.pipeInput('k3', 'a4', 1151);
    expect(read()).toEqual([['k1', 'a1+null', 1000]]);
  });

  it('outerJoin: unmatched records of both sides, oldest first (right before left at the same time)', () => {
    const { left, right, read } = streams('outerJoin', JoinWindows.ofTimeDifferenceWithNoGrace(100));
    left.pipeInput('k3', 'a3', 300);
    right.pipeInput('k4', 'b4', 310);
    right.pipeInput('k6', 'b6', 300);
    left.pipeInput('k7', 'a7', 320);
    right.pipeInput('k7', 'b7', 330);
    expect(read()).toEqual([['k7', 'a7+b7', 330]]);
    left.pipeInput('k5', 'a5', 500);
    expect(read()).toEqual([['k6', 'null+b6', 300], ['k3', 'a3+null', 300], ['k4', 'null+b4', 310]]);
  });

  it('before/after make the window asymmetric', () => {
    const { left, right, read } = streams('join', JoinWindows.ofTimeDifferenceWithNoGrace(0).after(100));
    left.pipeInput('k', 'a', 1000);
    right.pipeInput('k', 'early', 999); // before the left record: outside [ts, ts + 100]
    right.pipeInput('k', 'late', 1100);
    expect(read()).toEqual([['k', 'a+late', 1100]]);
  });

  it('after a key change both sides are repartitioned; StreamJoined names the topics and stores', () => {
    const b = new StreamsBuilder();
    const l = b.stream('ls').selectKey((_k, v: string) => v[0]);
    const r = b.stream('rs').map((_k, v: string) => ({ key: v[0], value: v }));
    l.join(r, show, JoinWindows.ofTimeDifferenceWithNoGrace(10), StreamJoined.with(S, S, S).withName('j').withStoreName('st')).to('out');
    const text = b.build().describe();
    expect(text).toContain('Sink: j-left-repartition-sink (topic: j-left-repartition)');
    expect(text).toContain('Sink: j-right-repartition-sink (topic: j-right-repartition)');
    expect(text).toContain('Processor: j-this-join (stores: [st-other-join-store])');
    expect(text).toContain('Processor: j-other-join (stores: [st-this-join-store])');
    const { input, read } = run(b);
    input('ls').pipeInput('1', 'xa', 5);
    input('rs').pipeInput('2', 'xb', 7);
    input('rs').pipeInput('3', 'yb', 8);
    expect(read()).toEqual([['x', 'xa+xb', 7]]);
  });

  it('JoinWindows refuses negative values as Kafka does', () => {
    expect(() => JoinWindows.ofTimeDifferenceAndGrace(10, -1)).toThrow('Grace period must not be negative.');
    expect(() => JoinWindows.ofTimeDifferenceWithNoGrace(-5)).toThrow('Window interval (ie, beforeMs+afterMs) must not be negative.');
  });
});

describe('GlobalKTable', () => {
  it('join and leftJoin through a key selector; the global table is updated by its topic and needs no co-partitioning', () => {
    const b = new StreamsBuilder();
    const g = b.globalTable('customers');
    const orders: KStream<string, string> = b.stream('orders');
    orders.join(g, (_k, v) => v.split('/')[0], (o: string, c: string) => `${o} by ${c}`).to('out');
    orders.leftJoin(g, (_k, v) => v.split('/')[0], (o: string, c: string | null) => `${o} by ${c}`, Named.as('lj')).to('out-left', Produced.with(S, S));
    const topology = b.build();
    expect(topology.subTopologies().map((s) => s.sourceTopics)).toEqual([['orders']]);
    expect(topology.copartitionGroups).toEqual([]);
    const { driver, input, read } = run(b);
    const left = driver.createOutputTopic('out-left', S, S);
    input('customers').pipeInput('c1', 'Ann', 1);
    input('orders').pipeInput('o1', 'c1/book', 2);
    input('orders').pipeInput('o2', 'c2/pen', 3);
    input('customers').pipeInput('c2', 'Bob', 4);
    input('orders').pipeInput('o3', 'c2/ink', 5);
    input('customers').pipeInput('c1', null, 6);
    input('orders').pipeInput('o4', 'c1/cup', 7);
    expect(read()).toEqual([['o1', 'c1/book by Ann', 2], ['o3', 'c2/ink by Bob', 5]]);
    expect(left.readKeyValuesToList()).toEqual([
      { key: 'o1', value: 'c1/book by Ann' },
      { key: 'o2', value: 'c2/pen by null' },
      { key: 'o3', value: 'c2/ink by Bob' },
      { key: 'o4', value: 'c1/cup by null' },
    ]);
    expect(driver.getKeyValueStore('customers-STATE-STORE-0000000000')!.get('c2')).toBe('Bob');
  });
});

describe('join window store', () => {
  it('keeps duplicates in Kafka key layout, indexes what a restore put back, and bounds fetches by retention', () => {
    const B = Serdes.ByteArray();
    const logged: Buffer[] = [];
    const store = new InMemoryKeyValueStore<Buffer, Buffer>('w', B, B);
    store.logger = (k) => logged.push(k);
    const w = JoinWindowStore.over(store, 100);
    w.put(Buffer.from('k'), Buffer.from('a'), 1000);
    w.put(Buffer.from('k'), Buffer.from('b'), 1000);
    // key bytes, then the timestamp (8 bytes) and a sequence number (4 bytes): duplicates kept
    expect(logged.map((k) => k.toString('hex'))).toEqual(['6b' + (1000).toString(16).padStart(16, '0') + '00000000', '6b' + (1000).toString(16).padStart(16, '0') + '00000001']);
    // A restored store (the changelog's bytes put back) is indexed on first use.
    const restored = new InMemoryKeyValueStore<Buffer, Buffer>('w2', B, B);
    for (const k of logged) restored.putBytes(k, Buffer.from(k.readInt32BE(k.length - 4) === 0 ? 'a' : 'b'));
    const r = JoinWindowStore.over(restored, 100);
    expect(r.fetch(Buffer.from('k'), 900, 1100).map((e) => e.value.toString())).toEqual(['a', 'b']);
    r.put(Buffer.from('k'), Buffer.from('c'), 1200); // stream time 1200: 1000 is now beyond the 100 ms retention
    expect(r.fetch(Buffer.from('k'), 0, 2000).map((e) => e.value.toString())).toEqual(['c']);
    r.put(Buffer.from('k'), Buffer.from('late'), 1050); // expired before it arrived: dropped
    expect(r.fetch(Buffer.from('k'), 0, 2000).map((e) => e.value.toString())).toEqual(['c']);
  });
});
