// DescribeCluster v0-v2: this broker is the whole cluster and its controller. v2 asks whether to
// include fenced brokers and marks each; kts's live brokers are never fenced.
import { brokersOnListener } from './common.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 60,
  minVersion: 0,
  maxVersion: 2,
  handle(request, ctx) {
    const { broker } = ctx;
    return {
      errorCode: 0,
      errorMessage: null,
      endpointType: request.endpointType ?? 1,
      clusterId: broker.clusterId,
      controllerId: broker.topics.controllerId(),
      brokers: brokersOnListener(ctx).map(({ nodeId, host, port, rack }) => ({ brokerId: nodeId, host, port, rack, isFenced: false })),
      clusterAuthorizedOperations: -2147483648,
    };
  },
});
