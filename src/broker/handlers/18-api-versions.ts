// ApiVersions v0-v5: the versions the registry serves (all of each handler's, or a Kafka release's
// with --as-kafka). The response header is always v0 (the codec knows), and a request above the
// served range is answered by the dispatcher in the v0 layout.
// v3+ carry the features: Kafka's v3 answer leaves out the supported features whose minimum is 0
// (clients before KIP-584's fix could not read them), v4+ lists them all. The finalized
// group.version 1 tells KIP-848 clients (Java 4's group.protocol=consumer) that the broker has it.
// v5 (KIP-1102): a client names the cluster and node it means to reach; both or neither (else
// INVALID_REQUEST), and a different cluster or node answers REBOOTSTRAP_REQUIRED, no versions.
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';

// Kafka's epoch is the metadata log offset of the last feature change; kts's levels never change.
const FINALIZED_FEATURES_EPOCH = 0;

export default defineHandler({
  apiKey: 18,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    if (ctx.apiVersion >= 5) {
      const clusterId: string | null = request.clusterId ?? null;
      const nodeId: number = request.nodeId ?? -1;
      if ((clusterId === null) !== (nodeId < 0)) return { errorCode: ErrorCode.INVALID_REQUEST, apiKeys: [] };
      if (clusterId !== null && (clusterId !== ctx.broker.clusterId || nodeId !== ctx.broker.nodeId)) {
        return { errorCode: ErrorCode.REBOOTSTRAP_REQUIRED, apiKeys: [] };
      }
    }
    const features = ctx.registry.features();
    return {
      errorCode: 0,
      apiKeys: ctx.registry.advertised(),
      throttleTimeMs: 0,
      supportedFeatures: ctx.apiVersion === 3 ? features.supported.filter((f) => f.minVersion > 0) : features.supported,
      finalizedFeaturesEpoch: FINALIZED_FEATURES_EPOCH,
      finalizedFeatures: features.finalized,
    };
  },
});
