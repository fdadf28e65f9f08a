// The failover tests' checker: it must flag a lost, moved or doubled acknowledged record, and let
// unacknowledged records be there or not.
import { describe, expect, it } from 'vitest';
import { UNKNOWN_OFFSET, ackedRecordProblems } from '../../helpers/acked-records.js';

const acked = [
  { partition: 0, offset: 0, value: 'a' },
  { partition: 0, offset: 1, value: 'b' },
  { partition: 1, offset: 0, value: 'c' },
];

describe('ackedRecordProblems', () => {
  it('accepts every acknowledged record once at its offset, with unacknowledged ones around it', () => {
    expect(ackedRecordProblems(acked, [...acked, { partition: 0, offset: 2, value: 'never-acked' }, { partition: 1, offset: 1, value: 'never-acked' }])).toEqual([]);
  });

  it('flags a lost record, one at another offset, a duplicate, and an offset read twice', () => {
    expect(ackedRecordProblems(acked, acked.slice(0, 2))).toEqual(['c acknowledged at 1@0, read nothing there']);
    expect(ackedRecordProblems(acked, [acked[0], { ...acked[1], offset: 2 }, acked[2]])).toEqual(['b acknowledged at 0@1, read nothing there']);
    expect(ackedRecordProblems(acked, [...acked, { partition: 1, offset: 1, value: 'a' }])).toEqual(['a acknowledged once, read 2 times']);
    expect(ackedRecordProblems(acked, [...acked, { partition: 0, offset: 1, value: 'x' }])).toEqual(['offset 0@1 read twice', 'b acknowledged at 0@1, read x there']);
    expect(ackedRecordProblems([...acked, { partition: 0, offset: 1, value: 'z' }], acked)).toEqual(['offset 0@1 acknowledged for both b and z', 'z acknowledged at 0@1, read b there']);
  });

  it('takes a record acknowledged without an offset (librdkafka -1001) as read once anywhere in its partition', () => {
    const implicit = [...acked, { partition: 1, offset: UNKNOWN_OFFSET, value: 'd' }];
    expect(ackedRecordProblems(implicit, [...acked, { partition: 1, offset: 5, value: 'd' }])).toEqual([]);
    expect(ackedRecordProblems(implicit, acked)).toEqual(['d acknowledged (offset unknown) in partition 1, read 0 times there']);
    expect(ackedRecordProblems(implicit, [...acked, { partition: 0, offset: 5, value: 'd' }])).toEqual(['d acknowledged (offset unknown) in partition 1, read 0 times there']);
    expect(ackedRecordProblems(implicit, [...acked, { partition: 1, offset: 5, value: 'd' }, { partition: 1, offset: 6, value: 'd' }])).toEqual(['d acknowledged (offset unknown) in partition 1, read 2 times there']);
  });
});
