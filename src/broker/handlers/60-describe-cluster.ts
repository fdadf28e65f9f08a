// DescribeCluster v0-v2: this broker is the whole cluster and its controller. v2 asks whether to
// include fenced brokers and marks each; kts's live brokers are never fenced.
import { brokersOnListener } from './common.js';
import { defineHandler } from '../api-handler.js';
import { authorizedOperations, Resource } from '../auth/check.js';
import { CLUSTER_NAME, SUPPORTED_OPERATIONS } from '../auth/acl.js';

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
      // With an authorizer, what the principal may do on the cluster when asked (kafka-acls and admin tools ask).
      clusterAuthorizedOperations:
        broker.authorizer && request.includeClusterAuthorizedOperations
          ? authorizedOperations(ctx, Resource.CLUSTER, CLUSTER_NAME, SUPPORTED_OPERATIONS[Resource.CLUSTER])
          : -2147483648,
    };
  },
});
