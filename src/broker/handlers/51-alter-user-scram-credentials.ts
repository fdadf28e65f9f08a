// AlterUserScramCredentials v0: upsert (salt and salted password, computed by the client; only the
// StoredKey and ServerKey are kept) and delete users' SCRAM credentials, with Kafka's checks: an
// unknown mechanism UNSUPPORTED_SASL_MECHANISM, iterations outside 4096..16384 or an empty name
// UNACCEPTABLE_CREDENTIAL, a user altered twice for one mechanism DUPLICATE_RESOURCE, deleting what
// does not exist RESOURCE_NOT_FOUND. Each user's changes are stored together. Needs Alter on the cluster.
import { ErrorCode } from '../../protocol/errors.js';
import { clusterAuthorized, Op } from '../auth/check.js';
import { credentialFrom, SCRAM_MAX_ITERATIONS, SCRAM_MIN_ITERATIONS, SCRAM_TYPE, type ScramCredential, type ScramMechanism } from '../security/sasl/scram.js';
import { defineHandler } from '../api-handler.js';

const BY_TYPE = new Map<number, ScramMechanism>(Object.entries(SCRAM_TYPE).map(([m, t]) => [t, m as ScramMechanism]));

interface Change {
  name: string;
  mechanism: number;
  upsert?: { iterations: number; salt: Buffer; saltedPassword: Buffer };
}

export default defineHandler({
  apiKey: 51,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    const changes: Change[] = [
      ...request.deletions.map((d) => ({ name: d.name, mechanism: d.mechanism })),
      ...request.upsertions.map((u) => ({ name: u.name, mechanism: u.mechanism, upsert: u })),
    ];
    const users = [...new Set(changes.map((c) => c.name))];
    if (!clusterAuthorized(ctx, Op.ALTER)) {
      return { results: users.map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' })) };
    }
    const store = ctx.broker.scram;
    const results = [];
    for (const user of users) {
      const mine = changes.filter((c) => c.name === user);
      const fail = (errorCode: number, errorMessage: string) => results.push({ user, errorCode, errorMessage });
      const seen = new Set<number>();
      let error: [number, string] | undefined;
      for (const c of mine) {
        if (!user) error ??= [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty'];
        else if (!BY_TYPE.has(c.mechanism)) error ??= [ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism'];
        else if (seen.has(c.mechanism)) error ??= [ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request'];
        else if (c.upsert && c.upsert.iterations < SCRAM_MIN_ITERATIONS) error ??= [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations'];
        else if (c.upsert && c.upsert.iterations > SCRAM_MAX_ITERATIONS) error ??= [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations'];
        seen.add(c.mechanism);
      }
      if (error) {
        fail(...error);
        continue;
      }
      if (!store) {
        fail(ErrorCode.UNKNOWN_SERVER_ERROR, 'No credential store');
        continue;
      }
      const existing = (await store.describe([user])).get(user) ?? new Map();
      const missing = mine.find((c) => !c.upsert && !existing.has(BY_TYPE.get(c.mechanism)!));
      if (missing) {
        fail(ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist');
        continue;
      }
      const upserts = new Map<ScramMechanism, ScramCredential>();
      for (const c of mine) {
        if (!c.upsert) continue;
        const m = BY_TYPE.get(c.mechanism)!;
        upserts.set(m, credentialFrom(m, c.upsert.saltedPassword, Buffer.from(c.upsert.salt), c.upsert.iterations));
      }
      const deletions = mine.filter((c) => !c.upsert).map((c) => BY_TYPE.get(c.mechanism)!);
      try {
        await store.alter(user, upserts, deletions);
        results.push({ user, errorCode: 0, errorMessage: null });
      } catch (err) {
        ctx.broker.log.error(`Storing the SCRAM credentials of ${user} failed: ${(err as Error).message}`);
        fail(ErrorCode.UNKNOWN_SERVER_ERROR, 'Storing the credentials failed');
      }
    }
    return { results };
  },
});
