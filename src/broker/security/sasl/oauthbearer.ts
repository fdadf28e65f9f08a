// SASL/OAUTHBEARER (RFC 7628) with Kafka's default server-side validator for unsecured JWS tokens
// (OAuthBearerUnsecuredValidatorCallbackHandler), meant for development: the token's header says
// alg "none", there is no signature, and the claims are checked, not trusted to anyone: the
// principal claim (sub, or unsecuredValidatorPrincipalClaimName) must be a non-empty string, exp a
// number of seconds in the future (within unsecuredValidatorAllowableClockSkewMs), iat not in the
// future, and unsecuredValidatorRequiredScope's scopes all in the scope claim.
import { authenticationFailed, SaslAuthenticationError, type SaslServerMechanism, type SaslStep } from './mechanism.js';

export interface UnsecuredValidatorOptions {
  principalClaim: string;
  scopeClaim: string;
  requiredScope: string[];
  allowableClockSkewMs: number;
  now: () => number;
}

export function validatorOptions(jaasOptions: ReadonlyMap<string, string> | undefined, now: () => number): UnsecuredValidatorOptions {
  const o = jaasOptions ?? new Map<string, string>();
  const skew = Number(o.get('unsecuredValidatorAllowableClockSkewMs') ?? '0');
  return {
    principalClaim: o.get('unsecuredValidatorPrincipalClaimName')?.trim() || 'sub',
    scopeClaim: o.get('unsecuredValidatorScopeClaimName')?.trim() || 'scope',
    requiredScope: (o.get('unsecuredValidatorRequiredScope') ?? '').split(/\s+/).filter(Boolean),
    allowableClockSkewMs: Number.isFinite(skew) && skew >= 0 ? skew : 0,
    now,
  };
}

function base64UrlJson(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new SaslAuthenticationError(`Invalid token: the ${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new SaslAuthenticationError(`Invalid token: the ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SaslAuthenticationError(`Invalid token: the ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** The token's principal and expiry (ms), or SaslAuthenticationError saying what is wrong with it. */
export function validateUnsecuredToken(token: string, opts: UnsecuredValidatorOptions): { principal: string; expiresAtMs: number } {
  const parts = token.split('.');
  if (parts.length !== 3) throw new SaslAuthenticationError('Invalid token: an unsecured JWS has three dot-separated parts');
  const header = base64UrlJson(parts[0], 'header');
  if (header.alg !== 'none') throw new SaslAuthenticationError(`Invalid token: unsecured JWS must have alg "none", not ${JSON.stringify(header.alg)}`);
  if (parts[2] !== '') throw new SaslAuthenticationError('Invalid token: an unsecured JWS has an empty signature');
  const claims = base64UrlJson(parts[1], 'payload');
  const principal = claims[opts.principalClaim];
  if (typeof principal !== 'string' || principal.trim() === '') throw new SaslAuthenticationError(`Invalid token: no principal claim ${opts.principalClaim}`);
  const now = opts.now();
  const exp = claims.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new SaslAuthenticationError('Invalid token: no numeric exp claim');
  if (now - opts.allowableClockSkewMs >= exp * 1000) throw new SaslAuthenticationError(`The token expired at ${new Date(exp * 1000).toISOString()}`);
  const iat = claims.iat;
  if (iat !== undefined && (typeof iat !== 'number' || iat * 1000 > now + opts.allowableClockSkewMs)) throw new SaslAuthenticationError('Invalid token: iat is not a time in the past');
  if (opts.requiredScope.length > 0) {
    const raw = claims[opts.scopeClaim];
    const scope = typeof raw === 'string' ? raw.split(/\s+/) : Array.isArray(raw) ? raw.map(String) : [];
    const missing = opts.requiredScope.filter((s) => !scope.includes(s));
    if (missing.length) throw new SaslAuthenticationError(`The token lacks the required scope ${missing.join(' ')}`);
  }
  return { principal, expiresAtMs: exp * 1000 };
}

export class OAuthBearerServer implements SaslServerMechanism {
  private done = false;

  constructor(private readonly opts: UnsecuredValidatorOptions) {}

  step(token: Buffer): SaslStep {
    if (this.done) throw authenticationFailed('OAUTHBEARER');
    this.done = true;
    // gs2-header "n,," or "n,a=<authzid>," then kvpairs separated by ^A, ending ^A^A.
    const text = token.toString('utf8');
    const m = /^n,(?:a=([^,]*))?,\x01(.*)\x01\x01$/s.exec(text);
    if (!m) throw new SaslAuthenticationError('Invalid OAUTHBEARER client first message');
    const pairs = new Map<string, string>();
    for (const kv of m[2].split('\x01')) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new SaslAuthenticationError('Invalid OAUTHBEARER client first message');
      pairs.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    const auth = /^Bearer\s+(\S+)$/i.exec(pairs.get('auth') ?? '');
    if (!auth) throw new SaslAuthenticationError('Invalid OAUTHBEARER client first message: no auth=Bearer token');
    const { principal, expiresAtMs } = validateUnsecuredToken(auth[1], this.opts);
    const authzid = m[1];
    if (authzid && authzid !== principal) throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from the token principal');
    // Kafka's OAuthBearerSaslServer hands the token's lifetime to the authenticator, which ends the
    // session there (or sooner, by connections.max.reauth.ms).
    return { challenge: Buffer.alloc(0), authorizationId: principal, credentialExpiresAtMs: expiresAtMs };
  }
}
