// A Kafka client's security settings (--command-config / --producer.config / --consumer.config
// files) as kts's client takes them: security.protocol, ssl.* (PEM truststore and keystore: file or
// inline, as Kafka 2.7+; PKCS12 keystores) and sasl.mechanism with sasl.jaas.config
// (PlainLoginModule / ScramLoginModule username and password, OAuthBearerLoginModule's unsecured
// token claims).
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { Properties } from '../config/properties.js';
import type { ClientSecurity } from '../client/connection.js';
import { unsecuredToken, type SaslCredentials } from '../client/sasl.js';
import { parseJaas, JaasError } from '../broker/security/sasl/jaas.js';
import { CliError } from './errors.js';

const PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];

function readKeyFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`Failed to load SSL keystore or truststore from ${key}=${path}: ${(err as Error).message}`);
  }
}

const inlinePem = (v: string) => v.replace(/\\n/g, '\n').replace(/(-----BEGIN [^-]+-----)\s*([\s\S]*?)\s*(-----END [^-]+-----)/g, (_m, b: string, body: string, e: string) => `${b}\n${body.replace(/\s+/g, '\n')}\n${e}`);

function tlsOptions(props: Properties): TlsConnectionOptions {
  const options: TlsConnectionOptions = {};
  const trustInline = props.get('ssl.truststore.certificates');
  const trustFile = props.get('ssl.truststore.location')?.trim();
  if (trustInline) options.ca = inlinePem(trustInline);
  else if (trustFile) options.ca = readKeyFile('ssl.truststore.location', trustFile).toString('utf8');
  const keyInline = props.get('ssl.keystore.key');
  const chainInline = props.get('ssl.keystore.certificate.chain');
  const keystore = props.get('ssl.keystore.location')?.trim();
  const password = props.get('ssl.key.password') ?? props.get('ssl.keystore.password');
  if (keyInline && chainInline) {
    options.key = inlinePem(keyInline);
    options.cert = inlinePem(chainInline);
  } else if (keystore) {
    const content = readKeyFile('ssl.keystore.location', keystore);
    if (content.subarray(0, 64).toString('latin1').includes('-----BEGIN')) {
      // A PEM keystore holds the key and the chain: Node finds each kind in the same text.
      options.key = content;
      options.cert = content;
    } else {
      options.pfx = content;
    }
  }
  if (password !== undefined) options.passphrase = password;
  // Kafka's default `https` checks the broker's name against its certificate; an empty value turns that off.
  const identification = props.get('ssl.endpoint.identification.algorithm');
  if (identification !== undefined && identification.trim() === '') options.checkServerIdentity = () => undefined;
  const protocols = (props.get('ssl.enabled.protocols') ?? '').split(',').map((p) => p.trim()).filter((p) => p === 'TLSv1.2' || p === 'TLSv1.3').sort();
  if (protocols.length) {
    options.minVersion = protocols[0] as 'TLSv1.2';
    options.maxVersion = protocols[protocols.length - 1] as 'TLSv1.3';
  }
  return options;
}

function saslCredentials(props: Properties): SaslCredentials {
  const mechanism = (props.get('sasl.mechanism') ?? 'GSSAPI').trim().toUpperCase();
  if (!MECHANISMS.includes(mechanism)) throw new CliError(`sasl.mechanism=${mechanism} is not supported by kts (${MECHANISMS.join(', ')})`);
  const jaasText = props.get('sasl.jaas.config');
  if (!jaasText) throw new CliError(`Could not find a 'KafkaClient' entry in the JAAS configuration. System property 'java.security.auth.login.config' is not set (set sasl.jaas.config)`);
  let options: Map<string, string>;
  try {
    options = parseJaas(jaasText)[0]?.options ?? new Map();
  } catch (err) {
    if (err instanceof JaasError) throw new CliError(err.message);
    throw err;
  }
  if (mechanism === 'OAUTHBEARER') {
    // OAuthBearerUnsecuredLoginCallbackHandler: unsecuredLoginStringClaim_sub, unsecuredLoginLifetimeSeconds.
    const sub = options.get('unsecuredLoginStringClaim_sub');
    if (!sub) throw new CliError('OAUTHBEARER needs unsecuredLoginStringClaim_sub in sasl.jaas.config (kts makes unsecured tokens only)');
    const lifetime = Number(options.get('unsecuredLoginLifetimeSeconds') ?? '3600');
    return { mechanism, token: unsecuredToken(sub, Number.isFinite(lifetime) ? lifetime : 3600) };
  }
  const username = options.get('username');
  const password = options.get('password');
  if (username === undefined || password === undefined) throw new CliError(`sasl.jaas.config must set username and password for ${mechanism}`);
  return { mechanism: mechanism as 'PLAIN', username, password };
}

/** undefined for PLAINTEXT (the default). */
export function clientSecurity(props: Properties): ClientSecurity | undefined {
  const protocol = (props.get('security.protocol') ?? 'PLAINTEXT').trim().toUpperCase();
  if (!PROTOCOLS.includes(protocol)) throw new CliError(`Invalid value ${props.get('security.protocol')} for configuration security.protocol: String must be one of: ${PROTOCOLS.join(', ')}`);
  if (protocol === 'PLAINTEXT') return undefined;
  return {
    tls: protocol.endsWith('SSL') ? tlsOptions(props) : undefined,
    sasl: protocol.startsWith('SASL_') ? saslCredentials(props) : undefined,
  };
}
