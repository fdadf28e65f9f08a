// Kafka's replica placement (AdminUtils.assignReplicasToBrokers), checked against the layouts Kafka's
// own tests expect for a fixed start index, and the checks of a client's explicit assignment.
import { describe, expect, it } from 'vitest';
import { assignReplicasToBrokers, rackAlternatedBrokers, validateReplicaAssignment } from '../../../src/cluster/replica-assignment.js';
import { ErrorCode } from '../../../src/protocol/errors.js';

const brokers = (ids: number[], rack?: (id: number) => string) => ids.map((nodeId) => ({ nodeId, rack: rack ? rack(nodeId) : null }));

describe('replica placement', () => {
  it('rack-unaware: round robin from the start index, followers shifted one more every n partitions', () => {
    const got = assignReplicasToBrokers(brokers([0, 1, 2, 3, 4]), 10, 3, { fixedStartIndex: 0 });
    expect(Object.fromEntries(got)).toEqual({
      0: [0, 1, 2], 1: [1, 2, 3], 2: [2, 3, 4], 3: [3, 4, 0], 4: [4, 0, 1],
      5: [0, 2, 3], 6: [1, 3, 4], 7: [2, 4, 0], 8: [3, 0, 1], 9: [4, 1, 2],
    });
  });

  it('random start: every partition gets RF distinct brokers and leaders spread evenly', () => {
    for (let i = 0; i < 20; i++) {
      const got = assignReplicasToBrokers(brokers([1, 2, 3]), 6, 3);
      const leaders = [...got.values()].map((r) => r[0]);
      for (const replicas of got.values()) expect(new Set(replicas).size).toBe(3);
      for (const id of [1, 2, 3]) expect(leaders.filter((l) => l === id)).toHaveLength(2);
    }
  });

  it('rack-aware: racks alternate, and each partition spans as many racks as it can', () => {
    const racks: Record<number, string> = { 0: 'rack1', 1: 'rack3', 2: 'rack3', 3: 'rack2', 4: 'rack2', 5: 'rack1' };
    expect(rackAlternatedBrokers(new Map(Object.entries(racks).map(([id, r]) => [Number(id), r])))).toEqual([0, 3, 1, 5, 4, 2]);
    const got = assignReplicasToBrokers(brokers([0, 1, 2, 3, 4, 5], (id) => racks[id]), 7, 3, { fixedStartIndex: 0 });
    expect(Object.fromEntries(got)).toEqual({ 0: [0, 3, 1], 1: [3, 1, 5], 2: [1, 5, 4], 3: [5, 4, 2], 4: [4, 2, 0], 5: [2, 0, 3], 6: [0, 4, 2] });
    for (const replicas of got.values()) expect(new Set(replicas.map((id) => racks[id])).size).toBe(3);
  });

  it('refuses a factor above the live brokers, and racks on only some brokers', () => {
    expect(() => assignReplicasToBrokers(brokers([1, 2]), 1, 3)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_REPLICATION_FACTOR, message: 'Replication factor: 3 larger than available brokers: 2.' }));
    expect(() => assignReplicasToBrokers([{ nodeId: 1, rack: 'a' }, { nodeId: 2, rack: null }], 1, 2)).toThrow(/Not all brokers have rack information/);
  });

  it('CreatePartitions places from the current count with the start index it is given', () => {
    const got = assignReplicasToBrokers(brokers([0, 1, 2]), 2, 2, { firstPartition: 3, fixedStartIndex: 1 });
    expect([...got.keys()]).toEqual([3, 4]);
  });

  it('an explicit assignment: consecutive ids, no duplicates, one factor, live brokers only', () => {
    const bad = (a: Record<number, number[]>, first = 0) => () => validateReplicaAssignment(new Map(Object.entries(a).map(([p, r]) => [Number(p), r])), [1, 2, 3], first);
    expect(bad({ 0: [1, 2], 1: [2, 3] })).not.toThrow();
    const invalid: Record<number, number[]>[] = [{ 0: [1, 2], 2: [2, 3] }, { 0: [1, 1] }, { 0: [1, 2], 1: [3] }, { 0: [1, 9] }, { 0: [] }];
    for (const a of invalid) {
      expect(bad(a)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_REPLICA_ASSIGNMENT }));
    }
    expect(bad({ 0: [1, 9] })).toThrow('Unknown broker(s) in replica assignment: 9.');
    expect(bad({ 3: [1] }, 3)).not.toThrow();
  });
});
