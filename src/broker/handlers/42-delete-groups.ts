// DeleteGroups v0-v3 (v3 adds a per-group error message, null as Kafka 4.4 answers). Only empty groups can go (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND
// for unknown ones); their offsets and metadata get tombstones in __consumer_offsets.
import { ErrorCode } from '../../protocol/errors.js';
import { filterAuthorized, Op, Resource } from '../auth/check.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 42,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, ctx) {
    // As KafkaApis: Delete on each group.
    const names = request.groupsNames;
    const allowed = filterAuthorized(ctx, Op.DELETE, Resource.GROUP, names, (g) => g);
    const deleted = new Map((await ctx.broker.groups.deleteGroups(allowed)).map((r: { groupId: string }) => [r.groupId, r]));
    return { results: names.map((groupId) => deleted.get(groupId) ?? { groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED }) };
  },
});
