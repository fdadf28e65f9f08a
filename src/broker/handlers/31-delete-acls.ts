// DeleteAcls v0-v3: removes every stored ACL each filter matches and answers them per filter. As
// KafkaApis: Alter on the cluster, SECURITY_DISABLED without an authorizer; a filter with UNKNOWN (0)
// parts closes the connection (Kafka refuses it as it parses the request), one with codes Kafka does
// not know is INVALID_REQUEST (the other filters still act).
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';
import { clusterAuthorized, Op } from '../auth/check.js';
import type { AclBindingFilter } from '../auth/acl.js';
import { CLUSTER_DENIED, NO_AUTHORIZER, filterOf, invalidFilter, refuseUnknownFilter } from './acl-requests.js';
import { errorCodeOf } from './common.js';

export default defineHandler({
  apiKey: 31,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, ctx) {
    const filters: AclBindingFilter[] = request.filters.map(filterOf);
    for (const f of filters) refuseUnknownFilter(f, 'DeleteAcls');
    const all = (errorCode: number, errorMessage: string) => ({ filterResults: filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })) });
    if (!clusterAuthorized(ctx, Op.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_DENIED);
    const authorizer = ctx.broker.authorizer;
    if (!authorizer) return all(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
    const invalid = filters.map(invalidFilter);
    const valid = filters.filter((_, i) => invalid[i] === null);
    let deleted;
    try {
      deleted = await authorizer.delete(valid);
    } catch (err) {
      const { code, message } = errorCodeOf(ctx.broker, err, 'deleting ACLs');
      return all(code, message);
    }
    let next = 0;
    return {
      filterResults: filters.map((_, i) => {
        if (invalid[i] !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: invalid[i], matchingAcls: [] };
        return {
          errorCode: 0,
          errorMessage: null,
          matchingAcls: deleted[next++].map((b) => ({ errorCode: 0, errorMessage: null, ...b })),
        };
      }),
    };
  },
});
