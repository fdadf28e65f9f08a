// ListGroups v0-v5. v4+ state filter and state in the answer; v5+ type filter and type
// (every group here is "classic").
import { clusterAuthorized, filterAuthorized, Op, Resource } from '../auth/check.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 16,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const v = ctx.apiVersion;
    const groups = ctx.broker.groups.listGroups(v >= 4 ? (request.statesFilter ?? []) : [], v >= 5 ? (request.typesFilter ?? []) : []);
    // As KafkaApis: Describe on the cluster lists every group, else the groups the principal may Describe.
    if (!ctx.broker.authorizer || clusterAuthorized(ctx, Op.DESCRIBE)) return { errorCode: 0, groups };
    return { errorCode: 0, groups: filterAuthorized(ctx, Op.DESCRIBE, Resource.GROUP, groups, (g: { groupId: string }) => g.groupId) };
  },
});
