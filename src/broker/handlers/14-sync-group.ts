// SyncGroup v0-v5. The leader sends everyone's assignment; every member waits for its own.
// v3+ group instance id; v5 protocol type/name (checked when given, echoed back).
import { authorized, refuseAll, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 14,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    if (!authorized(ctx, Op.READ, Resource.GROUP, request.groupId)) return refuseAll(ctx, 14, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const v = ctx.apiVersion;
    const result = await ctx.broker.groups.syncGroup({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: v >= 3 ? (request.groupInstanceId ?? null) : null,
      protocolType: v >= 5 ? (request.protocolType ?? null) : null,
      protocolName: v >= 5 ? (request.protocolName ?? null) : null,
      assignments: request.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
    });
    return result;
  },
});
