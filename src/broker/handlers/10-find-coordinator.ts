// FindCoordinator v0-v6. This broker coordinates every group (key type 0); finding one creates
// __consumer_offsets if needed, as Kafka does. v4+ batches keys. Transaction (1) and share (2)
// coordinators are not served here yet: COORDINATOR_NOT_AVAILABLE / INVALID_REQUEST.
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler, type RequestContext } from '../api-handler.js';

const GROUP = 0;
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
  if (keyType === TRANSACTION) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  if (keyType !== GROUP) return fail(ErrorCode.INVALID_REQUEST, `Unsupported coordinator key type ${keyType}`);
  try {
    await ctx.broker.groups.ensureOffsetsTopic();
  } catch (err) {
    ctx.broker.log.warn(`Could not create __consumer_offsets: ${(err as Error).message}`);
    return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  }
  const { host, port } = ctx.broker.advertised;
  return { key, nodeId: ctx.broker.nodeId, host, port, errorCode: ErrorCode.NONE, errorMessage: null };
}
