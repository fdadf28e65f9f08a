// LeaveGroup v0-v5. v0-v2: one member id, errors at the top; v3+: a batch of members (a static
// member may be named by group instance id alone), per-member errors; v5 reason.
import { authorized, refuseAll, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 13,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    if (!authorized(ctx, Op.READ, Resource.GROUP, request.groupId)) return refuseAll(ctx, 13, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const v = ctx.apiVersion;
    const leaving =
      v >= 3
        ? request.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId ?? null,
            reason: m.reason ?? null,
          }))
        : [{ memberId: request.memberId, groupInstanceId: null, reason: null }];
    const result = ctx.broker.groups.leaveGroup(request.groupId, leaving);
    if (v >= 3) return result;
    return { errorCode: result.errorCode || result.members[0]?.errorCode || 0 };
  },
});
