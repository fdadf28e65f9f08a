// A TLS listener's server options from Kafka's ssl.* keys, read per listener as Kafka reads them
// (listener.name.<listener>.ssl.keystore.location before ssl.keystore.location). Key material in
// PEM (ssl.keystore.type=PEM: a file holding the private key and the certificate chain, or both
// inline in ssl.keystore.key / ssl.keystore.certificate.chain), PKCS12 (Node reads it natively) or
// JKS; truststores in PEM, PKCS12 or JKS (src/security/keystores.ts). The file's content tells its
// type: ssl.keystore.type / ssl.truststore.type are not needed to read it.
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket, TlsOptions } from 'node:tls';
import { ConfigError } from '../../config/broker-config.js';
import { InvalidMappingRule, SslPrincipalMapper } from './ssl-principal-mapper.js';
import { jksKeyAndChain, KeystoreError, storeTypeOf, truststoreCertificates } from '../../security/keystores.js';

/** What a listener's TLS needs from the config: the value of a key for that listener. */
export type ListenerValue = (key: string) => string | undefined;

export type ClientAuth = 'required' | 'requested' | 'none';

export interface ListenerTls {
  options: TlsOptions;
  clientAuth: ClientAuth;
  /** ssl.principal.mapping.rules: a client certificate's subject -> the principal's name. */
  principalMapper: SslPrincipalMapper;
}

const PROTOCOL_VERSIONS: Record<string, 'TLSv1.2' | 'TLSv1.3'> = { 'TLSv1.2': 'TLSv1.2', 'TLSv1.3': 'TLSv1.3' };

/** Kafka's properties may carry a PEM inline on one line with literal "\n" or with spaces for line ends. */
function inlinePem(value: string): string {
  const text = value.replace(/\\n/g, '\n').trim();
  // "-----BEGIN X-----MIIB... -----END X-----" on one line: put the base64 on its own lines again.
  return text.replace(/(-----BEGIN [^-]+-----)\s*([\s\S]*?)\s*(-----END [^-]+-----)/g, (_m, b: string, body: string, e: string) => `${b}\n${body.replace(/\s+/g, '\n')}\n${e}`) + '\n';
}

async function readKeyFile(key: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError(`Failed to load SSL keystore or truststore from ${key}=${path}: ${(err as Error).message}`);
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Splits a PEM text into its private key blocks and certificate blocks. */
function pemBlocks(text: string): { keys: string[]; certs: string[] } {
  const keys: string[] = [];
  const certs: string[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (m[1].endsWith('PRIVATE KEY')) keys.push(m[0]);
    else if (m[1] === 'CERTIFICATE') certs.push(m[0]);
  }
  return { keys, certs };
}

export async function listenerTls(listener: string, value: ListenerValue): Promise<ListenerTls> {
  const where = `listener ${listener}`;
  const options: TlsOptions = {};
  const keystoreType = (value('ssl.keystore.type') ?? '').trim().toUpperCase();
  const location = value('ssl.keystore.location')?.trim();
  const inlineKey = value('ssl.keystore.key');
  const inlineChain = value('ssl.keystore.certificate.chain');
  const keyPassword = value('ssl.key.password') ?? value('ssl.keystore.password');
  if (inlineKey !== undefined || inlineChain !== undefined) {
    if (inlineKey === undefined || inlineChain === undefined) throw new ConfigError(`${where}: ssl.keystore.key and ssl.keystore.certificate.chain must be set together`);
    if (location) throw new ConfigError(`${where}: ssl.keystore.location cannot be set with ssl.keystore.key (Kafka's 'SSL key store' cannot be both a file and inline)`);
    options.key = inlinePem(inlineKey);
    options.cert = inlinePem(inlineChain);
  } else if (location) {
    const content = await readKeyFile('ssl.keystore.location', location);
    const type = storeTypeOf(content);
    const looksPem = type === 'PEM';
    if (type === 'JKS') {
      try {
        Object.assign(options, jksKeyAndChain(content, value('ssl.keystore.password'), value('ssl.key.password')));
      } catch (err) {
        if (err instanceof KeystoreError) throw new ConfigError(`${where}: Failed to load SSL keystore ${location} of type JKS: ${err.message}`);
        throw err;
      }
    } else if (keystoreType === 'PKCS12' || (!looksPem && keystoreType !== 'PEM')) {
      options.pfx = content;
      options.passphrase = value('ssl.keystore.password');
      try {
        const { createSecureContext } = await import('node:tls'); // loaded by TLS listeners only
        createSecureContext({ pfx: content, passphrase: options.passphrase });
      } catch (err) {
        const reason = /mac verify failure/i.test((err as Error).message) ? 'keystore password was incorrect (mac verify failure)' : (err as Error).message;
        throw new ConfigError(`${where}: Failed to load SSL keystore ${location} of type PKCS12: ${reason}`);
      }
    } else if (looksPem) {
      const { keys, certs } = pemBlocks(content.toString('utf8'));
      if (keys.length !== 1 || certs.length === 0) {
        throw new ConfigError(`${where}: the PEM keystore ${location} must hold one private key and its certificate chain (found ${keys.length} key(s), ${certs.length} certificate(s))`);
      }
      options.key = keys[0];
      options.cert = certs.join('\n') + '\n';
    } else {
      throw new ConfigError(`${where}: ssl.keystore.location ${location} is not a PEM file (ssl.keystore.type=${keystoreType})`);
    }
  } else {
    throw new ConfigError(`${where}: a TLS listener needs ssl.keystore.location (PEM or PKCS12) or ssl.keystore.key with ssl.keystore.certificate.chain`);
  }
  if (keyPassword !== undefined && options.pfx === undefined) options.passphrase = keyPassword;

  const truststoreLocation = value('ssl.truststore.location')?.trim();
  const inlineTrust = value('ssl.truststore.certificates');
  if (inlineTrust !== undefined) {
    options.ca = pemBlocks(inlinePem(inlineTrust)).certs;
  } else if (truststoreLocation) {
    const content = await readKeyFile('ssl.truststore.location', truststoreLocation);
    let certs: string[];
    try {
      certs = truststoreCertificates(content, value('ssl.truststore.password'));
    } catch (err) {
      if (err instanceof KeystoreError) throw new ConfigError(`${where}: Failed to load SSL truststore ${truststoreLocation}: ${err.message}`);
      throw err;
    }
    if (certs.length === 0) throw new ConfigError(`${where}: ssl.truststore.location ${truststoreLocation} holds no certificate`);
    options.ca = certs;
  }

  const clientAuth = (value('ssl.client.auth') ?? 'none').trim().toLowerCase();
  if (clientAuth !== 'required' && clientAuth !== 'requested' && clientAuth !== 'none') {
    throw new ConfigError(`Invalid value ${clientAuth} for configuration ssl.client.auth: String must be one of: required, requested, none`);
  }
  // `requested` lets a client without a certificate in; one that sends a certificate the truststore
  // does not vouch for is refused after the handshake (acceptConnection), as Java's wantClientAuth does.
  options.requestCert = clientAuth !== 'none';
  options.rejectUnauthorized = clientAuth === 'required';

  const protocols = (value('ssl.enabled.protocols') ?? 'TLSv1.2,TLSv1.3').split(',').map((p) => p.trim()).filter(Boolean);
  const versions = protocols.map((p) => PROTOCOL_VERSIONS[p]).filter(Boolean).sort();
  if (versions.length === 0) throw new ConfigError(`${where}: ssl.enabled.protocols=${protocols.join(',')} names no protocol kts serves (TLSv1.2, TLSv1.3)`);
  options.minVersion = versions[0];
  options.maxVersion = versions[versions.length - 1];
  const ciphers = value('ssl.cipher.suites')?.trim();
  if (ciphers) options.ciphers = ciphers.split(',').map((c) => c.trim()).join(':');
  const rules = value('ssl.principal.mapping.rules');
  let principalMapper: SslPrincipalMapper;
  try {
    principalMapper = SslPrincipalMapper.fromRules(rules);
  } catch (err) {
    if (err instanceof InvalidMappingRule) throw new ConfigError(`Invalid value ${rules} for configuration ssl.principal.mapping.rules (${where}): ${err.message}`);
    throw err;
  }
  return { options, clientAuth: clientAuth as ClientAuth, principalMapper };
}

/**
 * Kafka's default SSL principal (DefaultKafkaPrincipalBuilder with ssl.principal.mapping.rules=DEFAULT):
 * the client certificate's subject as X500Principal.getName() prints it, RFC 2253, most specific RDN
 * first ("CN=client,OU=dev,O=kts,C=US"). Undefined when no trusted certificate was presented.
 */
export function certificateSubject(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cert: X509Certificate | undefined = socket.getPeerX509Certificate();
  if (!cert) return undefined;
  // Node prints the subject one RDN a line in certificate order, escaped as RFC 2253 escapes.
  return cert.subject.split('\n').filter(Boolean).reverse().join(',');
}
