// ConsumerGroupDescribe v0-v1 (KIP-848; v1 adds each member's type). A classic or unknown group
// is GROUP_ID_NOT_FOUND, as Kafka answers.
import { defineHandler } from '../api-handler.js';

// No authorizer: everything a group allows (READ, DELETE, DESCRIBE), as DescribeGroups reports it.
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const NOT_REQUESTED = -2147483648;

export default defineHandler({
  apiKey: 69,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const authorizedOperations = request.includeAuthorizedOperations ? GROUP_OPERATIONS : NOT_REQUESTED;
    const groups = ctx.broker.groups.describeConsumerGroups(request.groupIds).map((g) => ({ ...g, authorizedOperations }));
    return { groups };
  },
});
