// DescribeGroups v0-v6. An unknown group is described as Dead with no error (Kafka does so) up to
// v5; from v6 (KIP-1043) it is GROUP_ID_NOT_FOUND with a message, as Kafka 4.4 answers;
// member metadata and assignments only for a Stable group. v3+ authorized operations (no
// authorizer: everything a group allows — READ, DELETE, DESCRIBE).
import { authorized, filterAuthorized, authorizedOperations, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';

const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const NOT_REQUESTED = -2147483648;

export default defineHandler({
  apiKey: 15,
  minVersion: 0,
  maxVersion: 6,
  handle(request, ctx) {
    const asked = ctx.apiVersion >= 3 && request.includeAuthorizedOperations;
    const operationsOf = (groupId: string) =>
      !asked ? NOT_REQUESTED : ctx.broker.authorizer ? authorizedOperations(ctx, Resource.GROUP, groupId, [Op.READ, Op.DELETE, Op.DESCRIBE]) : GROUP_OPERATIONS;
    // As KafkaApis: Describe on each group; a refused one is answered GROUP_AUTHORIZATION_FAILED.
    const allowed = filterAuthorized(ctx, Op.DESCRIBE, Resource.GROUP, request.groups, (g) => g);
    const described = new Map(ctx.broker.groups.describeGroups(allowed).map((g) => [g.groupId, g]));
    const groups = request.groups.map((groupId) => {
      const g = described.get(groupId);
      if (!g) return { groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: NOT_REQUESTED };
      const authorizedOperations = operationsOf(groupId);
      const notFound = ctx.apiVersion >= 6 && g.errorCode === 0 && g.groupState === 'Dead';
      return notFound
        ? { ...g, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${g.groupId} not found.`, authorizedOperations }
        : { ...g, authorizedOperations };
    });
    return { groups };
  },
});
