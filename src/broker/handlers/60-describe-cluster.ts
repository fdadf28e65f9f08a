// DescribeCluster v0-v1: this broker is the whole cluster and its controller.
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 60,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const { broker } = ctx;
    return {
      errorCode: 0,
      errorMessage: null,
      endpointType: request.endpointType ?? 1,
      clusterId: broker.clusterId,
      controllerId: broker.nodeId,
      brokers: [{ brokerId: broker.nodeId, host: broker.advertised.host, port: broker.advertised.port, rack: null }],
      clusterAuthorizedOperations: -2147483648,
    };
  },
});
