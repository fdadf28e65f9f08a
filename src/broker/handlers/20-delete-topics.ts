// DeleteTopics v0-v6: by name (v0-v5 `topicNames`), by name or id (v6 `topics`).
import type { Encodable } from '../../protocol/codec/schema.js';
import type { DeletableTopicResult } from '../../protocol/generated/20-delete-topics.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { defineHandler, type RequestContext } from '../api-handler.js';
import { authorized, Op, Resource } from '../auth/check.js';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export default defineHandler({
  apiKey: 20,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, ctx) {
    const targets: { name: string | null; topicId: string }[] =
      ctx.apiVersion >= 6 ? request.topics : request.topicNames.map((name: string) => ({ name, topicId: ZERO_UUID }));
    // The request's timeout bounds the wait for every deletion together (Kafka's DelayedDeleteTopics):
    // topics the controller has not deleted by then are answered REQUEST_TIMED_OUT, and their
    // deletion goes on; with a timeout of 0 or less none is waited for.
    const deadline = Date.now() + Math.max(0, request.timeoutMs);
    const responses = [];
    for (const target of targets) responses.push(await deleteTopic(ctx, target, deadline));
    return { responses };
  },
});

async function deleteTopic(ctx: RequestContext, target: { name: string | null; topicId: string }, deadline: number): Promise<Encodable<DeletableTopicResult>> {
  const { broker } = ctx;
  const byId = target.name == null && target.topicId !== ZERO_UUID;
  const topic = byId ? broker.topics.getById(target.topicId) : broker.topics.get(target.name ?? '');
  const result = { name: topic?.name ?? target.name, topicId: topic?.topicId ?? target.topicId };
  // As KafkaApis: by id, Describe first (an id the principal may not see is not confirmed); then Delete.
  if (byId && topic && !authorized(ctx, Op.DESCRIBE, Resource.TOPIC, topic.name)) return { name: null, topicId: target.topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
  if ((topic || !byId) && !authorized(ctx, Op.DELETE, Resource.TOPIC, topic?.name ?? target.name ?? '')) {
    return { ...result, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
  }
  if (!topic) {
    const errorCode = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    return { ...result, errorCode, errorMessage: 'This server does not host this topic-partition.' };
  }
  if (!broker.config.getBoolean('delete.topic.enable')) {
    return { ...result, errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: 'Topic deletion is disabled.' };
  }
  try {
    await broker.topics.delete(topic.name, { timeoutMs: Math.max(0, deadline - Date.now()) });
    broker.log.info(`Deleted topic ${topic.name}`);
    return { ...result, errorCode: 0, errorMessage: null };
  } catch (err) {
    if (err instanceof KafkaError) return { ...result, errorCode: err.code, errorMessage: err.message };
    throw err;
  }
}
