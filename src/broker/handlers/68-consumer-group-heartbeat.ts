// ConsumerGroupHeartbeat v0-v1 (KIP-848; v1: the client names its member id, and regex
// subscriptions). The whole protocol is in groups/consumer-heartbeat.ts.
import { authorized, refuseAll, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';
import { clientHostOf, clientIdOf } from '../groups/request-info.js';

export default defineHandler({
  apiKey: 68,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    if (!authorized(ctx, Op.READ, Resource.GROUP, request.groupId)) return refuseAll(ctx, 68, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    // As KafkaApis: every subscribed topic name must be describable.
    const subscribed: string[] | null = request.subscribedTopicNames ?? null;
    if (subscribed && subscribed.some((topic) => !authorized(ctx, Op.DESCRIBE, Resource.TOPIC, topic))) return refuseAll(ctx, 68, request, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    return ctx.broker.groups.consumerGroupHeartbeat({
      groupId: request.groupId,
      memberId: request.memberId ?? '',
      memberEpoch: request.memberEpoch,
      instanceId: request.instanceId ?? null,
      rackId: request.rackId ?? null,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      subscribedTopicNames: request.subscribedTopicNames ?? null,
      subscribedTopicRegex: ctx.apiVersion >= 1 ? (request.subscribedTopicRegex ?? null) : null,
      serverAssignor: request.serverAssignor ?? null,
      ownedTopicPartitions: request.topicPartitions ?? null,
      clientId: clientIdOf(ctx),
      clientHost: clientHostOf(ctx),
      apiVersion: ctx.apiVersion,
    });
  },
});
