// Heartbeat v0-v4 (v3+ group instance id). REBALANCE_IN_PROGRESS tells a member to rejoin.
import { authorized, refuseAll, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 12,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    if (!authorized(ctx, Op.READ, Resource.GROUP, request.groupId)) return refuseAll(ctx, 12, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const errorCode = ctx.broker.groups.heartbeat({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: ctx.apiVersion >= 3 ? (request.groupInstanceId ?? null) : null,
    });
    return { errorCode };
  },
});
