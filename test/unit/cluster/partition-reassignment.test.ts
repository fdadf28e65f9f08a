// KIP-455's replica-set arithmetic and Kafka's controller checks of a reassignment target
// (src/cluster/partition-reassignment.ts), and the JSON documents of kafka-reassign-partitions.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { isReassignmentComplete, originReplicas, planReassignment, reassignTo, targetReplicas } from '../../../src/cluster/partition-reassignment.js';
import { javaIntHashSetOrder, parseReassignmentJson, reassignmentJson } from '../../../src/cli/tools/reassign-json.js';

const settled = (replicas: number[]) => ({ replicas, adding: [], removing: [] });

describe('reassignTo', () => {
  it('{0,1} -> {1,2}: RS is the targets then the origin; AR and RR follow', () => {
    expect(reassignTo(settled([0, 1]), [1, 2])).toEqual({ replicas: [1, 2, 0], adding: [2], removing: [0] });
  });

  it('a second target keeps the first move\'s origin; cancelling is moving back to it', () => {
    const first = reassignTo(settled([1, 2, 3]), [3, 4, 2]);
    expect(first).toEqual({ replicas: [3, 4, 2, 1], adding: [4], removing: [1] });
    expect(originReplicas(first)).toEqual([3, 2, 1]);
    expect(targetReplicas(first)).toEqual([3, 4, 2]);
    expect(reassignTo(first, [5])).toEqual({ replicas: [5, 3, 2, 1], adding: [5], removing: [3, 2, 1] });
    expect(reassignTo(first, originReplicas(first))).toEqual({ replicas: [3, 2, 1], adding: [], removing: [] });
  });

  it('complete once every target replica is in the ISR', () => {
    const moving = reassignTo(settled([0, 1]), [1, 2]);
    expect(isReassignmentComplete(moving, [0, 1])).toBe(false);
    expect(isReassignmentComplete(moving, [1, 0, 2])).toBe(true);
    expect(isReassignmentComplete(settled([0]), [])).toBe(true);
  });
});

describe('planReassignment: Kafka\'s controller checks, in its order', () => {
  const live = [0, 1, 2];
  const code = (p: ReturnType<typeof planReassignment>) => ('error' in p ? [p.error.code, p.error.message] : null);

  it('refuses empty, duplicate, negative and not-live targets with Kafka\'s messages', () => {
    expect(code(planReassignment(settled([0]), [], live))).toEqual([ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Empty replica list specified in partition reassignment.']);
    expect(code(planReassignment(settled([0]), [1, 1], live))).toEqual([ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Duplicate replica ids in partition reassignment replica list: List(1, 1)']);
    expect(code(planReassignment(settled([0]), [-1], live))).toEqual([ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Invalid broker id in replica list: List(-1)']);
    expect(code(planReassignment(settled([0]), [0, 7], live))).toEqual([
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      'Replica assignment has brokers that are not alive. Replica list: List(7), live broker list: Set(0, 1, 2)',
    ]);
  });

  it('a missing partition is UNKNOWN_TOPIC_OR_PARTITION; cancelling nothing is NO_REASSIGNMENT_IN_PROGRESS', () => {
    expect(code(planReassignment(undefined, [0], live))).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'The partition does not exist.']);
    expect(code(planReassignment(settled([0]), null, live))).toEqual([ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, 'No partition reassignment is in progress.']);
    expect(code(planReassignment(undefined, null, live))?.[0]).toBe(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
  });

  it('a replica already there need not be live (only the ones added)', () => {
    expect(planReassignment(settled([5, 0]), [5, 1], [0, 1])).toEqual({ next: { replicas: [5, 1, 0], adding: [1], removing: [0] } });
  });

  it('cancel reverts to the origin', () => {
    expect(planReassignment({ replicas: [1, 2, 0], adding: [2], removing: [0] }, null, live)).toEqual({ next: settled([1, 0]) });
  });
});

describe('the reassignment JSON', () => {
  it('prints compact, sorted, with a log dir per replica', () => {
    expect(reassignmentJson([{ topic: 'b', partition: 0, replicas: [1] }, { topic: 'a', partition: 10, replicas: [2, 0] }, { topic: 'a', partition: 2, replicas: [0] }])).toBe(
      '{"version":1,"partitions":[{"topic":"a","partition":2,"replicas":[0],"log_dirs":["any"]},{"topic":"a","partition":10,"replicas":[2,0],"log_dirs":["any","any"]},{"topic":"b","partition":0,"replicas":[1],"log_dirs":["any"]}]}',
    );
  });

  it('reads entries with and without log_dirs; refuses a log_dirs list of another length and other versions', () => {
    expect(parseReassignmentJson('{"partitions":[{"topic":"t","partition":0,"replicas":[1,2]}]}')).toEqual([{ topic: 't', partition: 0, replicas: [1, 2], logDirs: ['any', 'any'] }]);
    expect(() => parseReassignmentJson('{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2],"log_dirs":["any"]}]}')).toThrow(
      'Size of replicas list [1, 2] is different from size of log dirs list [any] for partition t-0',
    );
    expect(() => parseReassignmentJson('{"version":2,"partitions":[]}')).toThrow('Not supported version field value 2');
  });

  it('lists brokers in the order of a java.util.HashSet<Integer>', () => {
    expect(javaIntHashSetOrder([2, 0, 1, 0])).toEqual([0, 1, 2]);
    expect(javaIntHashSetOrder([17, 1, 16, 3])).toEqual([16, 17, 1, 3]);
  });
});
