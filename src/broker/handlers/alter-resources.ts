// The shared body of AlterConfigs and IncrementalAlterConfigs: one result per resource.
import type { Encodable } from '../../protocol/codec/schema.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { RequestContext } from '../api-handler.js';
import type { AlterConfigsRequestData, AlterConfigsResourceResponse } from '../../protocol/generated/33-alter-configs.js';
import type { IncrementalAlterConfigsRequestData } from '../../protocol/generated/44-incremental-alter-configs.js';
import { alterConfigs, ResourceType } from '../configs.js';
import { authorized, clusterAuthorized, Op, Resource } from '../auth/check.js';

/**
 * As KafkaApis: a topic's configs need DescribeConfigs / AlterConfigs on the topic, a broker's (and
 * its loggers') on the cluster. Answers the error fields of a refused resource, or null.
 */
export function configsAuthorizationError(ctx: RequestContext, operation: number, resourceType: number, name: string): { errorCode: number; errorMessage: string } | null {
  if (resourceType === ResourceType.TOPIC) {
    return authorized(ctx, operation, Resource.TOPIC, name) ? null : { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' };
  }
  if (resourceType === ResourceType.BROKER || resourceType === ResourceType.BROKER_LOGGER) {
    return clusterAuthorized(ctx, operation) ? null : { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
  }
  return null;
}

export async function alterResources(ctx: RequestContext, request: AlterConfigsRequestData | IncrementalAlterConfigsRequestData, incremental: boolean): Promise<Encodable<AlterConfigsResourceResponse>[]> {
  const responses: Encodable<AlterConfigsResourceResponse>[] = [];
  for (const r of request.resources) {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    const denied = configsAuthorizationError(ctx, Op.ALTER_CONFIGS, r.resourceType, r.resourceName);
    if (denied) {
      responses.push({ ...base, ...denied });
      continue;
    }
    try {
      // AlterConfigs has no operation per entry (the whole set replaces the resource's).
      const entries = r.configs.map((c) => ({ name: c.name, value: c.value, op: 'configOperation' in c ? c.configOperation : undefined }));
      await alterConfigs(ctx.broker, r.resourceType, r.resourceName, entries, incremental, request.validateOnly);
      responses.push({ ...base, errorCode: 0, errorMessage: null });
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      responses.push({ ...base, errorCode: err.code, errorMessage: err.message });
    }
  }
  return responses;
}
