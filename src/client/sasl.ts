// The client side of SASL for the kts tools (and kts's own connections): SaslHandshake v1, then the
// mechanism's tokens in SaslAuthenticate requests (KIP-152). PLAIN, SCRAM-SHA-256/512 (RFC 5802,
// the server's signature checked) and OAUTHBEARER with a given token.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { KafkaClientError } from './errors.js';

export type SaslCredentials =
  | { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string }
  | { mechanism: 'OAUTHBEARER'; token: string };

/** Sends one token, answers the server's. */
export type SaslExchange = (token: Buffer) => Promise<Buffer>;

const saslName = (s: string) => s.replace(/=/g, '=3D').replace(/,/g, '=2C');

async function scram(mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', username: string, password: string, send: SaslExchange): Promise<void> {
  const alg = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
  const clientNonce = randomBytes(24).toString('base64').replace(/[=,]/g, '');
  const clientFirstBare = `n=${saslName(username)},r=${clientNonce}`;
  const serverFirst = (await send(Buffer.from(`n,,${clientFirstBare}`, 'utf8'))).toString('utf8');
  const attrs = new Map(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)] as const));
  const nonce = attrs.get('r') ?? '';
  const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
  const iterations = Number(attrs.get('i'));
  if (!nonce.startsWith(clientNonce) || !Number.isInteger(iterations) || iterations < 1 || iterations > 100_000) {
    throw new KafkaClientError(`Invalid SCRAM server first message`, { javaName: 'SaslAuthenticationException' });
  }
  const salted = pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, alg === 'sha256' ? 32 : 64, alg);
  const clientKey = createHmac(alg, salted).update('Client Key').digest();
  const storedKey = createHash(alg).update(clientKey).digest();
  const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${nonce}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = createHmac(alg, storedKey).update(authMessage).digest();
  const proof = Buffer.alloc(clientKey.length);
  for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i] ^ signature[i];
  const serverFinal = (await send(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8'))).toString('utf8');
  const expected = createHmac(alg, createHmac(alg, salted).update('Server Key').digest()).update(authMessage).digest();
  const got = Buffer.from(serverFinal.startsWith('v=') ? serverFinal.slice(2) : '', 'base64');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    throw new KafkaClientError('The broker sent an invalid SCRAM server signature', { javaName: 'SaslAuthenticationException' });
  }
}

export async function authenticate(credentials: SaslCredentials, send: SaslExchange): Promise<void> {
  switch (credentials.mechanism) {
    case 'PLAIN':
      await send(Buffer.from(`\u0000${credentials.username}\u0000${credentials.password}`, 'utf8'));
      return;
    case 'OAUTHBEARER':
      await send(Buffer.from(`n,,\u0001auth=Bearer ${credentials.token}\u0001\u0001`, 'utf8'));
      return;
    default:
      await scram(credentials.mechanism, credentials.username, credentials.password, send);
  }
}

/** An unsecured JWS (alg none), as Kafka's OAuthBearerUnsecuredLoginCallbackHandler makes for development. */
export function unsecuredToken(subject: string, lifetimeSeconds = 3600, now = Date.now(), extraClaims: Record<string, unknown> = {}): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o), 'utf8').toString('base64url');
  const iat = now / 1000;
  return `${part({ alg: 'none' })}.${part({ iat, exp: iat + lifetimeSeconds, sub: subject, ...extraClaims })}.`;
}
