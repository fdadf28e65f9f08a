// CreateAcls v0-v3: stores each ACL (one already stored is no error). As KafkaApis: Alter on the
// cluster, SECURITY_DISABLED without an authorizer, INVALID_REQUEST for a binding Kafka refuses
// (UNKNOWN parts, an empty name, a cluster not named kafka-cluster, a principal without a type), and
// UNKNOWN_SERVER_ERROR for every creation when one has ANY (or MATCH) parts, as Kafka 4.4 answers.
// With ZooKeeper, a resource name that cannot be a znode name is INVALID_REQUEST (acl-store.ts).
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';
import { clusterAuthorized, Op } from '../auth/check.js';
import type { AclBinding } from '../auth/acl.js';
import { CLUSTER_DENIED, NO_AUTHORIZER, invalidBinding, unbuildableBinding } from './acl-requests.js';
import { errorCodeOf } from './common.js';

export default defineHandler({
  apiKey: 30,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, ctx) {
    const creations = request.creations;
    const all = (errorCode: number, errorMessage: string | null) => ({ results: creations.map(() => ({ errorCode, errorMessage })) });
    if (!clusterAuthorized(ctx, Op.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_DENIED);
    const authorizer = ctx.broker.authorizer;
    if (!authorizer) return all(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
    const bindings: AclBinding[] = creations.map((c) => ({
      resourceType: c.resourceType,
      resourceName: c.resourceName,
      patternType: c.resourcePatternType ?? 3,
      principal: c.principal,
      host: c.host,
      operation: c.operation,
      permissionType: c.permissionType,
    }));
    if (bindings.some(unbuildableBinding)) return all(ErrorCode.UNKNOWN_SERVER_ERROR, null);
    const results: { errorCode: number; errorMessage: string | null }[] = bindings.map((b) => {
      const invalid = invalidBinding(b) ?? authorizer.nameProblem(b) ?? null;
      return invalid ? { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: invalid } : { errorCode: 0, errorMessage: '' };
    });
    const valid = bindings.filter((_, i) => results[i].errorCode === 0);
    try {
      await authorizer.create(valid);
    } catch (err) {
      const { code, message } = errorCodeOf(ctx.broker, err, 'storing ACLs');
      for (const r of results) if (r.errorCode === 0) Object.assign(r, { errorCode: code, errorMessage: message });
    }
    return { results };
  },
});
