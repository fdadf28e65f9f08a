// `kts configs --entity-type users`: SCRAM credentials, as Kafka's ConfigCommand manages them with
// --bootstrap-server (DescribeUserScramCredentials / AlterUserScramCredentials). The password is
// salted here, as Kafka's tool does, so only the salted password crosses the wire; quotas (the other
// user configs) are not implemented.
import { randomBytes } from 'node:crypto';
import type { KafkaClient } from '../../client/index.js';
import { KafkaClientError } from '../../client/errors.js';
import { errorName } from '../../protocol/errors.js';
import { saltedPassword, SCRAM_MECHANISMS, SCRAM_MIN_ITERATIONS, SCRAM_TYPE, type ScramMechanism } from '../../broker/security/sasl/scram.js';
import { CliError } from '../errors.js';
import type { ToolContext } from '../tool.js';

const NAMES = new Map<number, ScramMechanism>(Object.entries(SCRAM_TYPE).map(([m, t]) => [t, m as ScramMechanism]));

function brokerError(code: number, message: string | null): KafkaClientError {
  return new KafkaClientError(message ?? errorName(code), { code });
}

/** `SCRAM-SHA-512=[iterations=8192,password=secret]` values (brackets already dropped by parseAddConfig). */
function parseScramValue(mechanism: string, value: string): { iterations: number; password: string } {
  const fields = new Map<string, string>();
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CliError(`Invalid credential for ${mechanism}: expected [iterations=N,password=...] or [password=...]`, { bare: true });
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1));
  }
  const password = fields.get('password');
  if (password === undefined) throw new CliError(`Invalid credential for ${mechanism}: no password`, { bare: true });
  const iterations = fields.has('iterations') ? Number(fields.get('iterations')) : SCRAM_MIN_ITERATIONS;
  if (!Number.isInteger(iterations)) throw new CliError(`Invalid credential for ${mechanism}: iterations must be a whole number`, { bare: true });
  return { iterations, password };
}

export async function describeUsers(client: KafkaClient, name: string | undefined, ctx: ToolContext): Promise<void> {
  const conn = await client.cluster.any();
  const answer = await conn.send(50, 0, { users: name === undefined ? null : [{ name }] });
  if (answer.errorCode !== 0) throw brokerError(answer.errorCode, answer.errorMessage);
  const lines: string[] = [];
  const users: unknown[] = [];
  for (const r of answer.results as { user: string; errorCode: number; errorMessage: string | null; credentialInfos: { mechanism: number; iterations: number }[] }[]) {
    if (r.errorCode !== 0 && r.errorCode !== 91 /* RESOURCE_NOT_FOUND: no credentials */) throw brokerError(r.errorCode, r.errorMessage);
    const infos = r.credentialInfos.map((c) => ({ mechanism: NAMES.get(c.mechanism) ?? `UNKNOWN(${c.mechanism})`, iterations: c.iterations }));
    users.push({ user: r.user, credentials: infos });
    if (infos.length > 0) lines.push(`SCRAM credential configs for user-principal '${r.user}' are ${infos.map((i) => `${i.mechanism}=iterations=${i.iterations}`).join(', ')}`);
  }
  await ctx.out.print({ plain: lines.map((l) => `${l}\n`).join(''), json: { users } });
}

export async function alterUsers(client: KafkaClient, name: string, toAdd: Map<string, string>, toDelete: string[], ctx: ToolContext): Promise<void> {
  const other = [...toAdd.keys(), ...toDelete].filter((k) => !SCRAM_MECHANISMS.includes(k as ScramMechanism));
  if (other.length > 0) throw new CliError(`kts does not support user configs other than SCRAM credentials (${SCRAM_MECHANISMS.join(', ')}): ${other.join(',')}`, { bare: true });
  const upsertions = [...toAdd].map(([mechanism, value]) => {
    const { iterations, password } = parseScramValue(mechanism, value);
    const salt = randomBytes(32);
    return { name, mechanism: SCRAM_TYPE[mechanism as ScramMechanism], iterations, salt, saltedPassword: saltedPassword(mechanism as ScramMechanism, password, salt, Math.max(1, Math.min(iterations, 16384))) };
  });
  const deletions = toDelete.map((mechanism) => ({ name, mechanism: SCRAM_TYPE[mechanism as ScramMechanism] }));
  const conn = await client.cluster.any();
  const answer = await conn.send(51, 0, { deletions, upsertions });
  for (const r of answer.results) {
    if (r.errorCode !== 0) throw brokerError(r.errorCode, r.errorMessage);
  }
  await ctx.out.print({ plain: `Completed updating config for user ${name}.\n`, json: { type: 'users', name, set: [...toAdd.keys()], deleted: toDelete } });
}
