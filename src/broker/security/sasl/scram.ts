// SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka's ScramSaslServer: no channel
// binding, credentials looked up by user name (salt, iterations, StoredKey, ServerKey; never the
// password). The credential math is shared with the client side (src/client/sasl.ts) and with
// AlterUserScramCredentials, which receives a salted password and keeps only the two keys.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { authenticationFailed, SaslAuthenticationError, type SaslServerMechanism, type SaslStep } from './mechanism.js';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];
/** Kafka's ScramMechanism: type ids in Describe/AlterUserScramCredentials, minimum iterations. */
export const SCRAM_TYPE: Record<ScramMechanism, number> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;

export interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hashOf = (m: ScramMechanism) => (m === 'SCRAM-SHA-256' ? 'sha256' : 'sha512');
const hmac = (m: ScramMechanism, key: Buffer, data: string | Buffer) => createHmac(hashOf(m), key).update(data).digest();
const hash = (m: ScramMechanism, data: Buffer) => createHash(hashOf(m)).update(data).digest();

export function saltedPassword(m: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, m === 'SCRAM-SHA-256' ? 32 : 64, hashOf(m));
}

/** The stored credential of a salted password. */
export function credentialFrom(m: ScramMechanism, salted: Buffer, salt: Buffer, iterations: number): ScramCredential {
  const clientKey = hmac(m, salted, 'Client Key');
  return { salt, iterations, storedKey: hash(m, clientKey), serverKey: hmac(m, salted, 'Server Key') };
}

export function newCredential(m: ScramMechanism, password: string, iterations = SCRAM_MIN_ITERATIONS): ScramCredential {
  const salt = randomBytes(32);
  return credentialFrom(m, saltedPassword(m, password, salt, iterations), salt, iterations);
}

/** Kafka's stored form (ZooKeeper /config/users/<user>): salt=..,stored_key=..,server_key=..,iterations=N. */
export function formatCredential(c: ScramCredential): string {
  return `salt=${c.salt.toString('base64')},stored_key=${c.storedKey.toString('base64')},server_key=${c.serverKey.toString('base64')},iterations=${c.iterations}`;
}

export function parseCredential(text: string): ScramCredential | undefined {
  const fields = new Map(text.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  const salt = fields.get('salt');
  const storedKey = fields.get('stored_key');
  const serverKey = fields.get('server_key');
  const iterations = Number(fields.get('iterations'));
  if (!salt || !storedKey || !serverKey || !Number.isInteger(iterations) || iterations <= 0) return undefined;
  return { salt: Buffer.from(salt, 'base64'), storedKey: Buffer.from(storedKey, 'base64'), serverKey: Buffer.from(serverKey, 'base64'), iterations };
}

/** RFC 5802 saslname: ',' and '=' are sent as =2C and =3D. */
export const decodeSaslName = (s: string) => s.replace(/=2C/g, ',').replace(/=3D/g, '=');
export const encodeSaslName = (s: string) => s.replace(/=/g, '=3D').replace(/,/g, '=2C');

/** The `k=v` attributes of a SCRAM message; null when it is malformed. */
function attributes(message: string): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    if (part.length < 2 || part[1] !== '=') return null;
    out.set(part[0], part.slice(2));
  }
  return out;
}

export type CredentialLookup = (mechanism: ScramMechanism, user: string) => Promise<ScramCredential | undefined> | ScramCredential | undefined;

export class ScramServer implements SaslServerMechanism {
  private state: 'first' | 'final' | 'done' = 'first';
  private user = '';
  private credential: ScramCredential | undefined;
  private clientFirstBare = '';
  private serverFirst = '';
  private gs2Header = '';
  private nonce = '';

  constructor(
    private readonly mechanism: ScramMechanism,
    private readonly lookup: CredentialLookup,
  ) {}

  async step(token: Buffer): Promise<SaslStep> {
    const message = token.toString('utf8');
    if (this.state === 'first') return this.first(message);
    if (this.state === 'final') return this.final(message);
    throw new SaslAuthenticationError('SCRAM exchange already complete');
  }

  /**
   * Kafka's ScramSaslServer throws a plain SaslException for a malformed message, a wrong nonce or
   * proof, or an unknown user, and its authenticator answers each with the one generic message.
   */
  private refuse(reason: string): SaslAuthenticationError {
    return authenticationFailed(this.mechanism, reason);
  }

  private async first(message: string): Promise<SaslStep> {
    // gs2-header: "n," (no channel binding) or "y,"; "p=" (binding required) is refused. Then [a=authzid],
    const m = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(message);
    if (!m) throw this.refuse('Invalid SCRAM client first message (channel binding is not supported)');
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3];
    const attrs = attributes(m[3]);
    const name = attrs?.get('n');
    const clientNonce = attrs?.get('r');
    if (!attrs || !name || !clientNonce) throw this.refuse('Invalid SCRAM client first message');
    // Kafka's delegation-token extension (tokenauth=true) is not served.
    if (attrs.has('m') || attrs.get('tokenauth') === 'true') throw this.refuse('SCRAM extensions (delegation tokens) are not served');
    this.user = decodeSaslName(name);
    const authzid = m[2] ? decodeSaslName(m[2].slice(2)) : '';
    if (authzid && authzid !== this.user) throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
    this.credential = await this.lookup(this.mechanism, this.user);
    if (!this.credential) throw this.refuse(`no ${this.mechanism} credential for ${this.user}`);
    this.nonce = clientNonce + randomBytes(18).toString('base64').replace(/[=,]/g, '');
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations}`;
    this.state = 'final';
    return { challenge: Buffer.from(this.serverFirst, 'utf8') };
  }

  private final(message: string): SaslStep {
    this.state = 'done';
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) throw this.refuse('Invalid SCRAM client final message');
    const withoutProof = message.slice(0, proofAt);
    const attrs = attributes(message);
    if (!attrs) throw this.refuse('Invalid SCRAM client final message');
    // As Kafka's ScramSaslServer: the nonce must end with ours (librdkafka sends its own nonce again in front).
    if (!(attrs.get('r') ?? '').endsWith(this.nonce)) throw this.refuse('Invalid client nonce in the final client message.');
    if (attrs.get('c') !== Buffer.from(this.gs2Header, 'utf8').toString('base64')) throw this.refuse('Invalid SCRAM client final message: channel binding mismatch');
    const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
    const credential = this.credential!;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.mechanism, credential.storedKey, authMessage);
    if (proof.length !== clientSignature.length) throw this.refuse('Invalid client credentials');
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    if (!timingSafeEqual(hash(this.mechanism, clientKey), credential.storedKey)) throw this.refuse('Invalid client credentials');
    const serverSignature = hmac(this.mechanism, credential.serverKey, authMessage);
    return { challenge: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), authorizationId: this.user };
  }
}
