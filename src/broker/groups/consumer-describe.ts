// ConsumerGroupDescribe (69): a KIP-848 consumer group with its epochs, assignor and members'
// current and target assignments (topic ids with their names).
import { ErrorCode } from '../../protocol/errors.js';
import type { Assignment as DescribedAssignment, DescribedGroup } from '../../protocol/generated/69-consumer-group-describe.js';
import type { Assignment } from './assignors.js';
import type { GroupRuntime } from './runtime.js';

/** ConsumerGroupDescribe's group less authorizedOperations, which the handler fills in. */
export type ConsumerGroupDescription = Omit<DescribedGroup, 'authorizedOperations'>;

export function describeConsumerGroup(rt: GroupRuntime, groupId: string): ConsumerGroupDescription {
  const none = (errorCode: number, errorMessage: string | null): ConsumerGroupDescription => ({
    errorCode,
    errorMessage,
    groupId,
    groupState: '',
    groupEpoch: 0,
    assignmentEpoch: 0,
    assignorName: '',
    members: [],
  });
  const unavailable = rt.coordinatorError(groupId);
  if (unavailable) return none(unavailable, null);
  const group = rt.groups.get(groupId);
  if (!group || group.is('Dead')) return none(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} not found.`);
  const state = group.consumer;
  if (!state) return none(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a consumer group.`);
  const named = (a: Assignment): DescribedAssignment => ({
    topicPartitions: [...a]
      .filter(([, s]) => s.size > 0)
      .map(([topicId, s]) => ({ topicId, topicName: rt.topics?.getById?.(topicId)?.name ?? '', partitions: [...s].sort((x, y) => x - y) })),
  });
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    groupId,
    groupState: state.state(),
    groupEpoch: state.groupEpoch,
    assignmentEpoch: state.assignmentEpoch,
    assignorName: state.assignor,
    members: [...state.members.values()].map((m) => ({
      memberId: m.memberId,
      instanceId: m.instanceId,
      rackId: m.rackId,
      memberEpoch: m.memberEpoch,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: m.subscribedTopicNames,
      // Kafka keeps "no regex" as an empty string in its member record, and describes it so.
      subscribedTopicRegex: m.subscribedTopicRegex ?? '',
      assignment: named(m.assigned),
      targetAssignment: named(state.target.get(m.memberId) ?? new Map()),
      // KIP-1099: 0 for a member using the classic protocol, 1 for the consumer protocol.
      memberType: m.classic !== null ? 0 : 1,
    })),
  };
}
