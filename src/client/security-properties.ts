// A Kafka client's security settings as kts's client takes them: security.protocol, ssl.* (PEM
// truststore and keystore: file or inline, as Kafka 2.7+; PKCS12 and JKS stores) and sasl.mechanism with
// sasl.jaas.config (PlainLoginModule / ScramLoginModule username and password,
// OAuthBearerLoginModule's unsecured token claims). Read from the tools' --command-config files and
// from a broker's own config for its connections to other brokers; `fail` makes the caller's error.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
/** Only get() is read: a Properties map or a view over a broker's config. */
export type SecurityProperties = Pick<Map<string, string>, 'get'>;
import type { ClientSecurity } from './connection.js';
import { unsecuredToken, type SaslCredentials } from './sasl.js';
import { parseJaas, JaasError } from '../broker/security/sasl/jaas.js';
import { jksKeyAndChain, KeystoreError, storeTypeOf, truststoreCertificates } from '../security/keystores.js';

export type Fail = (message: string) => Error;

const PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];

function readKeyFile(key: string, path: string, fail: Fail): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw fail(`Failed to load SSL keystore or truststore from ${key}=${path}: ${(err as Error).message}`);
  }
}

const inlinePem = (v: string) => v.replace(/\\n/g, '\n').replace(/(-----BEGIN [^-]+-----)\s*([\s\S]*?)\s*(-----END [^-]+-----)/g, (_m, b: string, body: string, e: string) => `${b}\n${body.replace(/\s+/g, '\n')}\n${e}`);

function tlsOptions(props: SecurityProperties, fail: Fail): TlsConnectionOptions {
  const options: TlsConnectionOptions = {};
  const trustInline = props.get('ssl.truststore.certificates');
  const trustFile = props.get('ssl.truststore.location')?.trim();
  if (trustInline) options.ca = inlinePem(trustInline);
  else if (trustFile) {
    const content = readKeyFile('ssl.truststore.location', trustFile, fail);
    try {
      options.ca = truststoreCertificates(content, props.get('ssl.truststore.password'));
    } catch (err) {
      if (err instanceof KeystoreError) throw fail(`Failed to load SSL truststore ${trustFile}: ${err.message}`);
      throw err;
    }
  }
  const keyInline = props.get('ssl.keystore.key');
  const chainInline = props.get('ssl.keystore.certificate.chain');
  const keystore = props.get('ssl.keystore.location')?.trim();
  const password = props.get('ssl.key.password') ?? props.get('ssl.keystore.password');
  if (keyInline && chainInline) {
    options.key = inlinePem(keyInline);
    options.cert = inlinePem(chainInline);
  } else if (keystore) {
    const content = readKeyFile('ssl.keystore.location', keystore, fail);
    const type = storeTypeOf(content);
    if (type === 'JKS') {
      try {
        Object.assign(options, jksKeyAndChain(content, props.get('ssl.keystore.password'), props.get('ssl.key.password')));
      } catch (err) {
        if (err instanceof KeystoreError) throw fail(`Failed to load SSL keystore ${keystore} of type JKS: ${err.message}`);
        throw err;
      }
    } else if (type === 'PEM') {
      // A PEM keystore holds the key and the chain: Node finds each kind in the same text.
      options.key = content;
      options.cert = content;
    } else {
      options.pfx = content;
    }
  }
  // A PKCS12 store's password is ssl.keystore.password; an encrypted PEM key's is ssl.key.password.
  if (options.pfx !== undefined) options.passphrase = props.get('ssl.keystore.password') ?? password;
  else if (password !== undefined) options.passphrase = password;
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

/** The SASL credentials a client sends (no I/O: an OAUTHBEARER token is made fresh at each call). */
export function saslCredentials(props: SecurityProperties, fail: Fail): SaslCredentials {
  const mechanism = (props.get('sasl.mechanism') ?? 'GSSAPI').trim().toUpperCase();
  if (!MECHANISMS.includes(mechanism)) throw fail(`sasl.mechanism=${mechanism} is not supported by kts (${MECHANISMS.join(', ')})`);
  const jaasText = props.get('sasl.jaas.config');
  if (!jaasText) throw fail(`Could not find a 'KafkaClient' entry in the JAAS configuration. System property 'java.security.auth.login.config' is not set (set sasl.jaas.config)`);
  let options: Map<string, string>;
  try {
    options = parseJaas(jaasText)[0]?.options ?? new Map();
  } catch (err) {
    if (err instanceof JaasError) throw fail(err.message);
    throw err;
  }
  if (mechanism === 'OAUTHBEARER') {
    // OAuthBearerUnsecuredLoginCallbackHandler: unsecuredLoginStringClaim_sub, unsecuredLoginLifetimeSeconds.
    const sub = options.get('unsecuredLoginStringClaim_sub');
    if (!sub) throw fail('OAUTHBEARER needs unsecuredLoginStringClaim_sub in sasl.jaas.config (kts makes unsecured tokens only)');
    const lifetime = Number(options.get('unsecuredLoginLifetimeSeconds') ?? '3600');
    return { mechanism, token: unsecuredToken(sub, Number.isFinite(lifetime) ? lifetime : 3600) };
  }
  const username = options.get('username');
  const password = options.get('password');
  if (username === undefined || password === undefined) throw fail(`sasl.jaas.config must set username and password for ${mechanism}`);
  return { mechanism: mechanism as 'PLAIN', username, password };
}

/** undefined for PLAINTEXT (the default). */
export function securityFromProperties(props: SecurityProperties, fail: Fail): ClientSecurity | undefined {
  const protocol = (props.get('security.protocol') ?? 'PLAINTEXT').trim().toUpperCase();
  if (!PROTOCOLS.includes(protocol)) throw fail(`Invalid value ${props.get('security.protocol')} for configuration security.protocol: String must be one of: ${PROTOCOLS.join(', ')}`);
  if (protocol === 'PLAINTEXT') return undefined;
  return {
    tls: protocol.endsWith('SSL') ? tlsOptions(props, fail) : undefined,
    sasl: protocol.startsWith('SASL_') ? saslCredentials(props, fail) : undefined,
  };
}
