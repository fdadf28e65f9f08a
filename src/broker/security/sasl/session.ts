// SASL on a SASL_PLAINTEXT / SASL_SSL listener, as Kafka's SaslServerAuthenticator: before a
// connection has authenticated it may send ApiVersions, then SaslHandshake (choosing a mechanism),
// then SaslAuthenticate (KIP-152 framing) until the mechanism is done; anything else closes it, and
// its requests are held to sasl.server.max.receive.size. Each listener has its mechanisms and users.
import { ConfigError, type BrokerConfig } from '../../../config/broker-config.js';
import type { Logger } from '../../logger.js';
import { parseJaas, JaasError, type JaasEntry } from './jaas.js';
import { SaslAuthenticationError, type SaslServerMechanism } from './mechanism.js';
import { OAuthBearerServer, validatorOptions, type UnsecuredValidatorOptions } from './oauthbearer.js';
import { PlainServer, plainUsers } from './plain.js';
import { ScramServer, SCRAM_MECHANISMS, type CredentialLookup, type ScramMechanism } from './scram.js';

export const SERVED_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];
export const DEFAULT_MAX_RECEIVE_SIZE = 524_288;

export interface SaslListenerConfig {
  listenerName: string;
  /** In the order the config lists them (SaslHandshake answers them so). */
  mechanisms: string[];
  plainUsers: ReadonlyMap<string, string>;
  oauth: UnsecuredValidatorOptions;
  scram: CredentialLookup;
  /** sasl.server.max.receive.size: the largest request before authentication. */
  maxReceiveSize: number;
  /**
   * KIP-368: connections.max.reauth.ms per mechanism (listener.name.<l>.<mechanism>.connections.max.reauth.ms,
   * then the listener's, then the broker's); 0 = sessions do not expire (unless the credential does).
   */
  maxReauthMs: ReadonlyMap<string, number>;
  /** The broker's clock (ms): session expiry is measured on it. */
  now: () => number;
}

/** Kafka's KafkaChannel: a client may start re-authenticating at most once a second. */
export const MIN_REAUTH_INTERVAL_MS = 1000;

/** connections.max.reauth.ms for each mechanism, looked up as Kafka's SaslChannelBuilder does. */
function maxReauthByMechanism(config: BrokerConfig, listener: string, mechanisms: string[]): Map<string, number> {
  const byMechanism = new Map<string, number>();
  for (const mechanism of mechanisms) {
    const key = `listener.name.${listener.toLowerCase()}.${mechanism.toLowerCase()}.connections.max.reauth.ms`;
    const raw = config.get(key) ?? config.listenerValue(listener, 'connections.max.reauth.ms');
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw.trim());
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value)) throw new ConfigError(`Invalid value ${raw} for configuration ${key}: Not a number of type LONG`);
    byMechanism.set(mechanism, value);
  }
  return byMechanism;
}

/** The JAAS text for a listener and mechanism, looked up as Kafka does (most specific first). */
export function jaasText(config: BrokerConfig, listener: string, mechanism: string): string | undefined {
  const l = listener.toLowerCase();
  const text = config.get(`listener.name.${l}.${mechanism.toLowerCase()}.sasl.jaas.config`) ?? config.get(`listener.name.${l}.sasl.jaas.config`) ?? config.get('sasl.jaas.config');
  return text === undefined || text.trim() === '' ? undefined : text;
}

/** The JAAS entry for a listener and mechanism. */
function jaasFor(config: BrokerConfig, listener: string, mechanism: string): JaasEntry | undefined {
  const text = jaasText(config, listener, mechanism);
  if (text === undefined) return undefined;
  try {
    const entries = parseJaas(text);
    return entries[0];
  } catch (err) {
    if (err instanceof JaasError) throw new ConfigError(`listener ${listener}: ${err.message}`);
    throw err;
  }
}

/**
 * A SASL listener's settings. sasl.enabled.mechanisms (per listener or global) names them; Kafka's
 * default is GSSAPI, which kts does not serve, so when it is unset kts enables PLAIN (when the
 * listener's JAAS config has users) and SCRAM-SHA-256/512 (users come from the metadata).
 * OAUTHBEARER's unsecured tokens prove nothing, so it is on only when named.
 */
export function saslListenerConfig(config: BrokerConfig, listener: string, scram: CredentialLookup, log: Logger, now: () => number): SaslListenerConfig {
  const named = config.listenerValue(listener, 'sasl.enabled.mechanisms');
  const plainJaas = jaasFor(config, listener, 'PLAIN');
  const users = plainJaas && /PlainLoginModule$/.test(plainJaas.loginModule) ? plainUsers(plainJaas.options) : new Map<string, string>();
  let mechanisms: string[];
  if (named === undefined || named.trim() === '') {
    mechanisms = [...(users.size > 0 ? ['PLAIN'] : []), ...SCRAM_MECHANISMS];
  } else {
    mechanisms = named.split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
    const unserved = mechanisms.filter((m) => !SERVED_MECHANISMS.includes(m));
    if (unserved.length > 0) log.warn(`Listener ${listener}: SASL mechanism(s) ${unserved.join(', ')} are not served by kts (it serves ${SERVED_MECHANISMS.join(', ')})`);
    mechanisms = mechanisms.filter((m) => SERVED_MECHANISMS.includes(m));
    if (mechanisms.length === 0) throw new ConfigError(`listener ${listener}: sasl.enabled.mechanisms=${named} names no mechanism kts serves (${SERVED_MECHANISMS.join(', ')})`);
  }
  if (mechanisms.includes('PLAIN') && users.size === 0) log.warn(`Listener ${listener}: SASL/PLAIN is enabled but no user_<name>="<password>" is configured (listener.name.${listener.toLowerCase()}.plain.sasl.jaas.config); every PLAIN login will fail`);
  const maxReceive = config.getNumber('sasl.server.max.receive.size');
  return {
    listenerName: listener,
    mechanisms,
    plainUsers: users,
    oauth: validatorOptions(jaasFor(config, listener, 'OAUTHBEARER')?.options, now),
    scram,
    maxReceiveSize: Number.isInteger(maxReceive) && maxReceive > 0 ? maxReceive : DEFAULT_MAX_RECEIVE_SIZE,
    maxReauthMs: maxReauthByMechanism(config, listener, mechanisms),
    now,
  };
}

export interface SaslOutcome {
  authBytes: Buffer;
  /** Set when the exchange completed: the authenticated user. */
  authorizationId?: string;
  /** Set when the exchange completed: SaslAuthenticate's session_lifetime_ms (0: no expiry). */
  sessionLifetimeMs?: number;
}

/**
 * One connection's SASL state. Once complete, a session may expire (KIP-368): then the client must
 * re-authenticate (SaslHandshake + SaslAuthenticate on the same connection, same mechanism, same
 * principal) before it sends anything else, or the connection is closed at its next request.
 */
export class SaslSession {
  /** `reauth-bad-mechanism`: a re-authentication named another mechanism; its next request ends the connection. */
  state: 'handshake' | 'authenticate' | 'complete' | 'failed' | 'reauth-bad-mechanism' = 'handshake';
  mechanism: string | undefined;
  /** When the session ends (broker clock, ms); undefined: never. */
  expiresAtMs: number | undefined;
  /** Set while re-authenticating: the mechanism and user of the session being renewed. */
  private previous: { mechanism: string; authorizationId: string } | undefined;
  private authorizationId: string | undefined;
  private lastReauthStartMs: number | undefined;
  /** Why a re-authentication that named another mechanism will fail (Kafka's message). */
  badMechanismMessage: string | undefined;
  private server: SaslServerMechanism | undefined;

  constructor(
    readonly config: SaslListenerConfig,
    /** Called with the authorization id each time an exchange succeeds (first login and renewals). */
    private readonly onComplete: (authorizationId: string) => void,
    /** Called when a renewal begins: its requests are held to sasl.server.max.receive.size again, as Kafka's. */
    private readonly onReauthenticationStart: () => void = () => {},
  ) {}

  get complete(): boolean {
    return this.state === 'complete';
  }

  get reauthenticating(): boolean {
    return this.previous !== undefined;
  }

  /** True once an authenticated session is past its lifetime (Kafka: strictly after it). */
  expired(): boolean {
    return this.expiresAtMs !== undefined && this.config.now() > this.expiresAtMs;
  }

  /**
   * A SaslHandshake on an authenticated connection: starts re-authentication when the session has an
   * expiry and the last one started at least a second ago (Kafka's KafkaChannel); otherwise false,
   * and the handshake is answered ILLEGAL_SASL_STATE as any late one.
   */
  maybeBeginReauthentication(): boolean {
    if (this.state !== 'complete' || this.expiresAtMs === undefined) return false;
    const now = this.config.now();
    if (this.lastReauthStartMs !== undefined && now - this.lastReauthStartMs < MIN_REAUTH_INTERVAL_MS) return false;
    this.lastReauthStartMs = now;
    this.previous = { mechanism: this.mechanism!, authorizationId: this.authorizationId! };
    this.state = 'handshake';
    this.server = undefined;
    this.onReauthenticationStart();
    return true;
  }

  /**
   * ApiVersions is answered before a first login's handshake only (Kafka's HANDSHAKE_OR_VERSIONS_REQUEST
   * state); once a mechanism is chosen, and throughout a renewal, only SASL requests are.
   */
  get acceptsApiVersions(): boolean {
    return this.state === 'handshake' && !this.reauthenticating;
  }

  /** SaslHandshake: true when the mechanism is enabled (the exchange may start). */
  handshake(mechanism: string): boolean {
    if (!this.config.mechanisms.includes(mechanism)) {
      this.state = 'failed';
      return false;
    }
    if (this.previous && this.previous.mechanism !== mechanism) {
      // Kafka answers the handshake and fails the exchange at the client's next request.
      this.badMechanismMessage = `SASL mechanism '${mechanism}' requested by client is not supported for re-authentication of mechanism '${this.previous.mechanism}'`;
      this.state = 'reauth-bad-mechanism';
      return true;
    }
    this.mechanism = mechanism;
    this.server =
      mechanism === 'PLAIN'
        ? new PlainServer(this.config.plainUsers)
        : mechanism === 'OAUTHBEARER'
          ? new OAuthBearerServer(this.config.oauth)
          : new ScramServer(mechanism as ScramMechanism, this.config.scram);
    this.state = 'authenticate';
    return true;
  }

  /** SaslAuthenticate: the next server token; throws SaslAuthenticationError (the session is then failed). */
  async authenticate(token: Buffer): Promise<SaslOutcome> {
    if (this.state !== 'authenticate' || !this.server) throw new SaslAuthenticationError('Unexpected SaslAuthenticate request');
    try {
      const step = await this.server.step(token);
      if (step.authorizationId === undefined) return { authBytes: step.challenge };
      if (this.previous && this.previous.authorizationId !== step.authorizationId) {
        throw new SaslAuthenticationError(`Cannot change principals during re-authentication from User.${this.previous.authorizationId}: User.${step.authorizationId}`);
      }
      const sessionLifetimeMs = this.startSession(step.credentialExpiresAtMs);
      this.state = 'complete';
      this.previous = undefined;
      this.authorizationId = step.authorizationId;
      this.onComplete(step.authorizationId);
      return { authBytes: step.challenge, authorizationId: step.authorizationId, sessionLifetimeMs };
    } catch (err) {
      this.state = 'failed';
      if (this.previous && err instanceof SaslAuthenticationError && err.message.includes('during authentication')) {
        throw new SaslAuthenticationError(err.message.replace('during authentication', 'during re-authentication'), err.reason);
      }
      throw err;
    }
  }

  /**
   * The new session's lifetime, as Kafka's SaslServerAuthenticator works it out: the mechanism's
   * connections.max.reauth.ms when positive, the credential's remaining life when it has one, the
   * shorter when both; 0 and no expiry when neither.
   */
  private startSession(credentialExpiresAtMs: number | undefined): number {
    const now = this.config.now();
    const maxReauth = this.config.maxReauthMs.get(this.mechanism!) ?? 0;
    this.expiresAtMs = undefined;
    if (credentialExpiresAtMs === undefined && maxReauth <= 0) return 0;
    let lifetime: number;
    if (credentialExpiresAtMs === undefined) lifetime = maxReauth;
    else if (maxReauth <= 0) lifetime = credentialExpiresAtMs - now;
    else lifetime = Math.min(credentialExpiresAtMs - now, maxReauth);
    lifetime = Math.max(0, lifetime);
    this.expiresAtMs = now + lifetime;
    return lifetime;
  }
}
