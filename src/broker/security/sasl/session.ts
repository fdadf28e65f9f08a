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
  };
}

export interface SaslOutcome {
  authBytes: Buffer;
  /** Set when the exchange completed: the authenticated user. */
  authorizationId?: string;
}

/** One connection's SASL state. */
export class SaslSession {
  state: 'handshake' | 'authenticate' | 'complete' | 'failed' = 'handshake';
  mechanism: string | undefined;
  private server: SaslServerMechanism | undefined;

  constructor(
    readonly config: SaslListenerConfig,
    /** Called once with the authorization id when the exchange succeeds. */
    private readonly onComplete: (authorizationId: string) => void,
  ) {}

  get complete(): boolean {
    return this.state === 'complete';
  }

  /** SaslHandshake: true when the mechanism is enabled (the exchange may start). */
  handshake(mechanism: string): boolean {
    if (!this.config.mechanisms.includes(mechanism)) {
      this.state = 'failed';
      return false;
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
      if (step.authorizationId !== undefined) {
        this.state = 'complete';
        this.onComplete(step.authorizationId);
      }
      return { authBytes: step.challenge, authorizationId: step.authorizationId };
    } catch (err) {
      this.state = 'failed';
      throw err;
    }
  }
}
