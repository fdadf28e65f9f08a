// DescribeAcls v0-v3: the stored ACLs a filter matches, grouped by resource pattern. As KafkaApis:
// Describe on the cluster, SECURITY_DISABLED without an authorizer; a filter with UNKNOWN (0) parts
// closes the connection (Kafka refuses it as it parses the request), one with codes Kafka does not
// know matches nothing.
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';
import { clusterAuthorized, Op } from '../auth/check.js';
import type { AclBinding } from '../auth/acl.js';
import { CLUSTER_DENIED, NO_AUTHORIZER, filterOf, invalidFilter, refuseUnknownFilter } from './acl-requests.js';

export default defineHandler({
  apiKey: 29,
  minVersion: 0,
  maxVersion: 3,
  handle(request, ctx) {
    const fail = (errorCode: number, errorMessage: string) => ({ errorCode, errorMessage, resources: [] });
    const filter = filterOf(request);
    refuseUnknownFilter(filter, 'DescribeAcls');
    if (!clusterAuthorized(ctx, Op.DESCRIBE)) return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_DENIED);
    const authorizer = ctx.broker.authorizer;
    if (!authorizer) return fail(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
    if (invalidFilter(filter)) return { errorCode: 0, errorMessage: '', resources: [] };
    const byPattern = new Map<string, { resourceType: number; resourceName: string; patternType: number; acls: object[] }>();
    for (const b of authorizer.describe(filter) as AclBinding[]) {
      const key = JSON.stringify([b.resourceType, b.patternType, b.resourceName]);
      let resource = byPattern.get(key);
      if (!resource) byPattern.set(key, (resource = { resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, acls: [] }));
      resource.acls.push({ principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permissionType });
    }
    return { errorCode: 0, errorMessage: '', resources: [...byPattern.values()] };
  },
});
