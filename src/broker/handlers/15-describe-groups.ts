// DescribeGroups v0-v5. An unknown group is described as Dead with no error (Kafka does so);
// member metadata and assignments only for a Stable group. v3+ authorized operations (no
// authorizer: everything a group allows — READ, DELETE, DESCRIBE).
import { defineHandler } from '../api-handler.js';

const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const NOT_REQUESTED = -2147483648;

export default defineHandler({
  apiKey: 15,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const authorizedOperations = ctx.apiVersion >= 3 && request.includeAuthorizedOperations ? GROUP_OPERATIONS : NOT_REQUESTED;
    const groups = ctx.broker.groups.describeGroups(request.groups).map((g) => ({ ...g, authorizedOperations }));
    return { groups };
  },
});
