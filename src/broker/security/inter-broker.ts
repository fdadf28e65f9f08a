// How this broker connects to the others (replica fetchers, transaction markers and verification,
// requests forwarded to the controller): with the security protocol of the inter-broker listener,
// as Kafka's inter-broker clients do. TLS takes that listener's ssl.* keys (its keystore is the
// client certificate, its truststore checks the other broker's; ssl.endpoint.identification.algorithm
// as for any client). SASL uses sasl.mechanism.inter.broker.protocol (Kafka's default GSSAPI is not
// served by kts, so it must be named) with the username and password (or unsecured OAUTHBEARER
// claims) of that listener's JAAS entry for the mechanism, the same entry whose user_<name> options
// the listener serves: listener.name.<l>.<mechanism>.sasl.jaas.config, then the less specific keys.
import { ConfigError, type BrokerConfig } from '../../config/broker-config.js';
import type { ClientSecurity } from '../../client/connection.js';
import { saslCredentials, securityFromProperties, type SecurityProperties } from '../../client/security-properties.js';
import { jaasText } from './sasl/session.js';

const SSL_KEYS = [
  'ssl.truststore.location',
  'ssl.truststore.certificates',
  'ssl.truststore.password',
  'ssl.keystore.location',
  'ssl.keystore.key',
  'ssl.keystore.certificate.chain',
  'ssl.keystore.password',
  'ssl.key.password',
  'ssl.endpoint.identification.algorithm',
  'ssl.enabled.protocols',
];

/** The inter-broker client's settings, checked at start; `security()` for each new connection. */
export interface InterBrokerSecurity {
  readonly listenerName: string;
  readonly protocol: string;
  /** undefined for PLAINTEXT. A fresh OAUTHBEARER token at each call (it expires). */
  security(): ClientSecurity | undefined;
}

export function interBrokerSecurity(config: BrokerConfig): InterBrokerSecurity {
  const listenerName = config.interBrokerListenerName;
  const protocol = config.listenerProtocol(listenerName);
  const fail = (message: string) => new ConfigError(`inter-broker listener ${listenerName} (${protocol}): ${message}`);
  const props = new Map<string, string>([['security.protocol', protocol]]);
  for (const key of SSL_KEYS) {
    const value = config.listenerValue(listenerName, key);
    if (value !== undefined) props.set(key, value);
  }
  if (protocol.startsWith('SASL_')) {
    const mechanism = (config.get('sasl.mechanism.inter.broker.protocol') ?? 'GSSAPI').trim().toUpperCase();
    props.set('sasl.mechanism', mechanism);
    const jaas = jaasText(config, listenerName, mechanism);
    if (jaas !== undefined) props.set('sasl.jaas.config', jaas);
    if (mechanism === 'GSSAPI') throw fail('sasl.mechanism.inter.broker.protocol=GSSAPI (Kafka\'s default) is not served by kts; set it to PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER');
  }
  const view: SecurityProperties = props;
  // Files are read once, here (at start, before the listeners serve); a bad one stops the start.
  const fixed = securityFromProperties(view, fail);
  return {
    listenerName,
    protocol,
    security: () => (fixed?.sasl?.mechanism === 'OAUTHBEARER' ? { ...fixed, sasl: saslCredentials(view, fail) } : fixed),
  };
}
