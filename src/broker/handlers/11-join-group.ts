// JoinGroup v0-v9. v0 has no rebalance timeout (the session timeout stands in); v4+ new members
// get MEMBER_ID_REQUIRED first; v5+ static membership; v7+ protocol type in the answer (nullable
// protocol name); v8 reason; v9 skip-assignment. The answer waits for the join phase to end.
import { authorized, refuseAll, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';
import { clientHostOf, clientIdOf } from '../groups/request-info.js';

export default defineHandler({
  apiKey: 11,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, ctx) {
    if (!authorized(ctx, Op.READ, Resource.GROUP, request.groupId)) return refuseAll(ctx, 11, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const v = ctx.apiVersion;
    const result = await ctx.broker.groups.joinGroup({
      groupId: request.groupId,
      memberId: request.memberId ?? '',
      groupInstanceId: v >= 5 ? (request.groupInstanceId ?? null) : null,
      requireKnownMemberId: v >= 4,
      supportSkippingAssignment: v >= 9,
      clientId: clientIdOf(ctx),
      clientHost: clientHostOf(ctx),
      rebalanceTimeoutMs: v >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
      sessionTimeoutMs: request.sessionTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      reason: v >= 8 ? request.reason : null,
    });
    return {
      errorCode: result.errorCode,
      generationId: result.generationId,
      protocolType: result.protocolType,
      protocolName: result.protocolName ?? (v >= 7 ? null : ''),
      leader: result.leader,
      skipAssignment: result.skipAssignment,
      memberId: result.memberId,
      members: result.members,
    };
  },
});
