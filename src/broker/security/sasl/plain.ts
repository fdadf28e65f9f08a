// SASL/PLAIN (RFC 4616) as Kafka's PlainServer: one message `authzid NUL authcid NUL password`,
// checked against the JAAS user_<name>="<password>" options of the listener. An authzid, when given,
// must be the user itself.
import { timingSafeEqual, createHash } from 'node:crypto';
import { SaslAuthenticationError, type SaslServerMechanism, type SaslStep } from './mechanism.js';

/** Compares through digests, so neither length nor content leaks through timing. */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

export class PlainServer implements SaslServerMechanism {
  private done = false;

  constructor(private readonly users: ReadonlyMap<string, string>) {}

  step(token: Buffer): SaslStep {
    if (this.done) throw new SaslAuthenticationError('PLAIN takes one message');
    this.done = true;
    const parts = token.toString('utf8').split('\u0000');
    // Kafka's PlainSaslServer reads at most four tokens, so it never counts more.
    if (parts.length !== 3) throw new SaslAuthenticationError(`Invalid SASL/PLAIN response: expected 3 tokens, got ${Math.min(parts.length, 4)}`);
    const [authzid, username, password] = parts;
    if (!username) throw new SaslAuthenticationError('Authentication failed: username not specified');
    if (!password) throw new SaslAuthenticationError('Authentication failed: password not specified');
    const expected = this.users.get(username);
    // A missing user is compared too, against a value it cannot match, to keep the timing alike.
    const ok = sameSecret(password, expected ?? `\u0000${password}`) && expected !== undefined;
    if (!ok) throw new SaslAuthenticationError('Authentication failed: Invalid username or password', expected === undefined ? `unknown user ${username}` : `wrong password for ${username}`);
    if (authzid && authzid !== username) throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
    return { challenge: Buffer.alloc(0), authorizationId: username };
  }
}

/** The users of a PlainLoginModule JAAS entry: its user_<name>="password" options. */
export function plainUsers(options: ReadonlyMap<string, string>): Map<string, string> {
  const users = new Map<string, string>();
  for (const [k, v] of options) if (k.startsWith('user_') && k.length > 5) users.set(k.slice(5), v);
  return users;
}
