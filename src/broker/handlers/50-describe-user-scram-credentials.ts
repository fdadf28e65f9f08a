// DescribeUserScramCredentials v0: the mechanisms and iterations of users' SCRAM credentials (never
// salts or keys), as Kafka: null or empty users = every user with credentials; a named user without
// any is RESOURCE_NOT_FOUND, a name given twice DUPLICATE_RESOURCE. Needs Describe on the cluster.
import { ErrorCode } from '../../protocol/errors.js';
import { clusterAuthorized, Op } from '../auth/check.js';
import { SCRAM_TYPE } from '../security/sasl/scram.js';
import type { UserCredentials } from '../security/scram-store.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 50,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    if (!clusterAuthorized(ctx, Op.DESCRIBE)) {
      return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', results: [] };
    }
    const store = ctx.broker.scram;
    const named: string[] | null = request.users && request.users.length > 0 ? request.users.map((u) => u.name) : null;
    const found: Map<string, UserCredentials> = store ? await store.describe(named === null ? null : [...new Set(named)]) : new Map();
    const credentialInfos = (user: string) => [...found.get(user)!].map(([m, c]) => ({ mechanism: SCRAM_TYPE[m], iterations: c.iterations }));
    if (named === null) {
      return { errorCode: 0, errorMessage: '', results: [...found.keys()].sort().map((user) => ({ user, errorCode: 0, errorMessage: '', credentialInfos: credentialInfos(user) })) };
    }
    const counts = new Map<string, number>();
    for (const n of named) counts.set(n, (counts.get(n) ?? 0) + 1);
    return {
      errorCode: 0,
      errorMessage: '',
      results: [...counts.keys()].map((user) =>
        counts.get(user)! > 1
          ? { user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: [] }
          : found.has(user)
            ? { user, errorCode: 0, errorMessage: '', credentialInfos: credentialInfos(user) }
            : { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: [] },
      ),
    };
  },
});
