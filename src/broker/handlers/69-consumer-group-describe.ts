// ConsumerGroupDescribe v0-v1 (KIP-848; v1 adds each member's type). A classic or unknown group
// is GROUP_ID_NOT_FOUND, as Kafka answers.
import { ErrorCode } from '../../protocol/errors.js';
import { filterAuthorized, authorizedOperations, Op, Resource } from '../auth/check.js';
import { defineHandler } from '../api-handler.js';

// No authorizer: everything a group allows (READ, DELETE, DESCRIBE), as DescribeGroups reports it.
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const NOT_REQUESTED = -2147483648;

export default defineHandler({
  apiKey: 69,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const operationsOf = (groupId: string) =>
      !request.includeAuthorizedOperations ? NOT_REQUESTED : ctx.broker.authorizer ? authorizedOperations(ctx, Resource.GROUP, groupId, [Op.READ, Op.DELETE, Op.DESCRIBE]) : GROUP_OPERATIONS;
    const ids = request.groupIds;
    const allowed = filterAuthorized(ctx, Op.DESCRIBE, Resource.GROUP, ids, (g) => g);
    const described = new Map(ctx.broker.groups.describeConsumerGroups(allowed).map((g) => [g.groupId, g]));
    const groups = ids.map((groupId) => {
      const g = described.get(groupId);
      return g
        ? { ...g, authorizedOperations: operationsOf(groupId) }
        : { groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: 'Group authorization failed.', groupState: '', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [], authorizedOperations: NOT_REQUESTED };
    });
    return { groups };
  },
});
