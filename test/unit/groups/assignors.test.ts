// The KIP-848 server-side assignors: uniform (balanced where subscriptions allow, sticky) and range.
import { describe, expect, it } from 'vitest';
import { assign, assignorNameOf, type Assignment, type AssignorMember } from '../../../src/broker/groups/assignors.js';

const topics = [
  { topicId: 'A', name: 'a', partitions: 4 },
  { topicId: 'B', name: 'b', partitions: 2 },
];
const member = (memberId: string, subscribed: string[], current: Assignment = new Map()): AssignorMember => ({ memberId, topics: new Set(subscribed), current });
const flat = (a: Assignment | undefined) => [...(a ?? new Map())].flatMap(([t, s]) => [...s].map((p) => `${t}${p}`)).sort();

describe('server-side assignors', () => {
  it('uniform: every partition once, counts within one of each other', () => {
    const out = assign('uniform', [member('m1', ['A', 'B']), member('m2', ['A', 'B']), member('m3', ['A', 'B'])], topics);
    const all = [...out.values()].flatMap(flat).sort();
    expect(all).toEqual(['A0', 'A1', 'A2', 'A3', 'B0', 'B1']);
    expect([...out.values()].map((a) => flat(a).length)).toEqual([2, 2, 2]);
  });

  it('uniform: heterogeneous subscriptions only get their topics, and are balanced where they can be', () => {
    const out = assign('uniform', [member('m1', ['A']), member('m2', ['A', 'B'])], topics);
    expect(flat(out.get('m1')).every((p) => p.startsWith('A'))).toBe(true);
    expect(flat(out.get('m2'))).toEqual(expect.arrayContaining(['B0', 'B1']));
    expect(flat(out.get('m1'))).toHaveLength(3);
    expect(flat(out.get('m2'))).toHaveLength(3);
  });

  it('uniform: sticky (a newcomer takes only its share; the others keep what they had)', () => {
    const first = assign('uniform', [member('m1', ['A'])], topics);
    const second = assign('uniform', [member('m1', ['A'], first.get('m1')), member('m2', ['A'])], topics);
    expect(flat(second.get('m1'))).toHaveLength(2);
    expect(flat(first.get('m1'))).toEqual(expect.arrayContaining(flat(second.get('m1'))));
    const third = assign('uniform', [member('m1', ['A'], second.get('m1')), member('m2', ['A'], second.get('m2')), member('m3', ['A'])], topics);
    expect(flat(second.get('m1'))).toEqual(expect.arrayContaining(flat(third.get('m1'))));
    expect(flat(second.get('m2'))).toEqual(expect.arrayContaining(flat(third.get('m2'))));
  });

  it('range: consecutive ranges per topic in member id order, the first ones one more', () => {
    const out = assign('range', [member('m2', ['A', 'B']), member('m1', ['A', 'B']), member('m3', ['A'])], topics);
    expect(flat(out.get('m1'))).toEqual(['A0', 'A1', 'B0']);
    expect(flat(out.get('m2'))).toEqual(['A2', 'B1']);
    expect(flat(out.get('m3'))).toEqual(['A3']);
  });

  it('accepts names and Kafka 3.x class names', () => {
    expect(assignorNameOf('org.apache.kafka.coordinator.group.assignor.UniformAssignor')).toBe('uniform');
    expect(assignorNameOf('range')).toBe('range');
    expect(assignorNameOf('sticky')).toBeNull();
  });
});
