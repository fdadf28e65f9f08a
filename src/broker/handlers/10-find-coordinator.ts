// FindCoordinator v0-v6. Groups (key type 0) are coordinated by the leader of their
// __consumer_offsets partition; finding one creates
// __consumer_offsets if needed, as Kafka does. v4+ batches keys. Share (2) coordinators are not
// served: INVALID_REQUEST. Transactions are not served yet either: a transactional id (1) gets what
// Kafka answers for a transactional id the client may not use, TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
// which kafkajs, librdkafka and the Java client treat as fatal at once (COORDINATOR_NOT_AVAILABLE
// made them retry until their own timeouts: kafkajs ~10 s, kcat 5 s, Java 60 s).
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler, type RequestContext } from '../api-handler.js';

const GROUP = 0;
const OFFSETS_TOPIC = '__consumer_offsets';
const TRANSACTION = 1;

interface Found {
  key: string;
  nodeId: number;
  host: string;
  port: number;
  errorCode: number;
  errorMessage: string | null;
}

export default defineHandler({
  apiKey: 10,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    const keyType: number = v >= 1 ? request.keyType : GROUP;
    const keys: string[] = v >= 4 ? request.coordinatorKeys : [request.key];
    const coordinators = await Promise.all(keys.map((key) => find(ctx, key, keyType)));
    if (v >= 4) return { coordinators };
    const { errorCode, errorMessage, nodeId, host, port } = coordinators[0];
    return { errorCode, errorMessage, nodeId, host, port };
  },
});

async function find(ctx: RequestContext, key: string, keyType: number): Promise<Found> {
  const fail = (errorCode: number, errorMessage: string): Found => ({ key, nodeId: -1, host: '', port: -1, errorCode, errorMessage });
  if (keyType === TRANSACTION) {
    return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'Transactions are not supported by this broker (kts): the transactional id cannot be used.');
  }
  if (keyType !== GROUP) return fail(ErrorCode.INVALID_REQUEST, `Unsupported coordinator key type ${keyType}`);
  try {
    await ctx.broker.groups.ensureOffsetsTopic();
  } catch (err) {
    ctx.broker.log.warn(`Could not create __consumer_offsets: ${(err as Error).message}`);
    return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  }
  // The coordinator is the leader of the group's __consumer_offsets partition (this broker unless
  // it runs in a ZooKeeper cluster); with no live leader the client retries later.
  const partition = ctx.broker.groups.partitionFor(key);
  const leader = ctx.broker.topics.partitionState(OFFSETS_TOPIC, partition)?.leader ?? -1;
  const endpoint = ctx.broker.topics.liveBrokers().find((b) => b.nodeId === leader);
  if (!endpoint) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  return { key, nodeId: endpoint.nodeId, host: endpoint.host, port: endpoint.port, errorCode: ErrorCode.NONE, errorMessage: null };
}
