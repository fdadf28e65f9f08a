// FindCoordinator v0-v6. Groups (key type 0) are coordinated by the leader of their
// __consumer_offsets partition; finding one creates
// __consumer_offsets if needed, as Kafka does. v4+ batches keys. Share (2) coordinators are not
// served: INVALID_REQUEST. A transactional id (1) is coordinated by the leader of its
// __transaction_state partition (created on first need, as Kafka does).
import { authorized, Op, Resource } from '../auth/check.js';
import { brokersOnListener } from './common.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler, type RequestContext } from '../api-handler.js';
import { TXN_TOPIC } from '../transactions/records.js';

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
  if (keyType !== GROUP && keyType !== TRANSACTION) return fail(ErrorCode.INVALID_REQUEST, `Unsupported coordinator key type ${keyType}`);
  // As KafkaApis: Describe on the group or the transactional id.
  if (keyType === GROUP && !authorized(ctx, Op.DESCRIBE, Resource.GROUP, key)) return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.');
  if (keyType === TRANSACTION && !authorized(ctx, Op.DESCRIBE, Resource.TRANSACTIONAL_ID, key)) return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'Transactional Id authorization failed.');
  const txn = keyType === TRANSACTION ? ctx.broker.txnCoordinator : undefined;
  if (keyType === TRANSACTION && !txn) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  // Kafka refuses an empty transactional id here (a group id may be empty).
  if (keyType === TRANSACTION && key === '') return fail(ErrorCode.INVALID_REQUEST, 'Transactional id cannot be empty');
  const topic = txn ? TXN_TOPIC : OFFSETS_TOPIC;
  try {
    await (txn ? txn.ensureTopic() : ctx.broker.groups.ensureOffsetsTopic());
  } catch (err) {
    ctx.broker.log.warn(`Could not create ${topic}: ${(err as Error).message}`);
    return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  }
  // The coordinator is the leader of the key's partition of __consumer_offsets/__transaction_state
  // (this broker unless it runs in a ZooKeeper cluster); with no live leader the client retries later.
  const partition = txn ? txn.partitionFor(key) : ctx.broker.groups.partitionFor(key);
  const leader = ctx.broker.topics.partitionState(topic, partition)?.leader ?? -1;
  const endpoint = brokersOnListener(ctx).find((b) => b.nodeId === leader);
  if (!endpoint) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  return { key, nodeId: endpoint.nodeId, host: endpoint.host, port: endpoint.port, errorCode: ErrorCode.NONE, errorMessage: null };
}
