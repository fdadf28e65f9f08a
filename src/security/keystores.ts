// Java's key and trust stores, read with Node's crypto only (no I/O here: the callers read the files).
// - PEM: the text itself.
// - PKCS12: Node's TLS takes a keystore as `pfx`; a truststore holds certificates only, which `pfx`
//   refuses, so its certificate bags are read here: plain or PBES2-encrypted (PBKDF2 + AES-CBC, what
//   keytool writes since Java 12 and OpenSSL 3 by default).
// - JKS: Sun's format (magic FEEDFEED; SHA-1 integrity over the store password, "Mighty Aphrodite"
//   and the contents; private keys under Sun's KeyProtector, a SHA-1 keystream) becomes PEM.
import { createDecipheriv, createHash, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

export class KeystoreError extends Error {}

export type StoreType = 'PEM' | 'PKCS12' | 'JKS';

const JKS_MAGIC = 0xfeedfeed;

/** What a store file is, from its first bytes (a declared type that disagrees is not trusted: Kafka fails later anyway). */
export function storeTypeOf(content: Buffer): StoreType | undefined {
  if (content.length >= 4 && content.readUInt32BE(0) === JKS_MAGIC) return 'JKS';
  if (content.subarray(0, 256).toString('latin1').includes('-----BEGIN')) return 'PEM';
  if (content.length > 0 && content[0] === 0x30) return 'PKCS12';
  return undefined;
}

const pem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;

// ---- DER, as much as these formats need ----

interface Der {
  tag: number;
  /** The content octets. */
  value: Buffer;
  /** Offset just past this element. */
  end: number;
}

function readDer(buf: Buffer, offset: number): Der {
  if (offset + 2 > buf.length) throw new KeystoreError('truncated DER');
  const tag = buf[offset];
  let len = buf[offset + 1];
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new KeystoreError('unsupported DER length (indefinite or over 4 bytes)');
    if (pos + n > buf.length) throw new KeystoreError('truncated DER');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i];
    pos += n;
  }
  if (pos + len > buf.length) throw new KeystoreError('truncated DER');
  return { tag, value: buf.subarray(pos, pos + len), end: pos + len };
}

function children(node: Der): Der[] {
  const out: Der[] = [];
  for (let pos = 0; pos < node.value.length; ) {
    const child = readDer(node.value, pos);
    out.push(child);
    pos = child.end;
  }
  return out;
}

function expectTag(node: Der | undefined, tag: number, what: string): Der {
  if (!node || node.tag !== tag) throw new KeystoreError(`malformed ${what}`);
  return node;
}

function oidOf(node: Der): string {
  const b = node.value;
  const parts = [Math.floor(b[0] / 40), b[0] % 40];
  let n = 0;
  for (let i = 1; i < b.length; i++) {
    n = n * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

const intOf = (node: Der) => node.value.reduce((n, byte) => n * 256 + byte, 0);

/** An OCTET STRING's bytes, primitive or (BER) made of pieces. */
function octets(node: Der): Buffer {
  return node.tag & 0x20 ? Buffer.concat(children(node).map(octets)) : node.value;
}

// ---- PKCS12 ----

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
};
const PRF: Record<string, string> = { '1.2.840.113549.2.7': 'sha1', '1.2.840.113549.2.8': 'sha224', '1.2.840.113549.2.9': 'sha256', '1.2.840.113549.2.10': 'sha384', '1.2.840.113549.2.11': 'sha512' };
const AES: Record<string, [string, number]> = { '2.16.840.1.101.3.4.1.2': ['aes-128-cbc', 16], '2.16.840.1.101.3.4.1.22': ['aes-192-cbc', 24], '2.16.840.1.101.3.4.1.42': ['aes-256-cbc', 32] };

function pbes2Decrypt(params: Der, data: Buffer, password: string | undefined): Buffer {
  const [kdf, scheme] = children(expectTag(params, 0x30, 'PBES2 parameters'));
  const [kdfOid, kdfParams] = children(expectTag(kdf, 0x30, 'PBES2 key derivation'));
  if (oidOf(kdfOid) !== OID.pbkdf2) throw new KeystoreError(`unsupported key derivation ${oidOf(kdfOid)}`);
  const p = children(expectTag(kdfParams, 0x30, 'PBKDF2 parameters'));
  const salt = expectTag(p[0], 0x04, 'PBKDF2 salt').value;
  const iterations = intOf(expectTag(p[1], 0x02, 'PBKDF2 iterations'));
  const prfNode = p.slice(2).find((n) => n.tag === 0x30);
  const digest = prfNode ? PRF[oidOf(children(prfNode)[0])] : 'sha1';
  const [schemeOid, iv] = children(expectTag(scheme, 0x30, 'PBES2 encryption scheme'));
  const cipher = AES[oidOf(schemeOid)];
  if (!digest || !cipher) throw new KeystoreError(`unsupported PBES2 algorithms (${prfNode ? oidOf(children(prfNode)[0]) : 'sha1'}, ${oidOf(schemeOid)})`);
  if (iterations < 1 || iterations > 10_000_000) throw new KeystoreError(`PBKDF2 iteration count ${iterations} out of range`);
  if (password === undefined) throw new KeystoreError('the store is encrypted and no password is set (ssl.truststore.password / ssl.keystore.password)');
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, cipher[1], digest);
  try {
    const decipher = createDecipheriv(cipher[0], key, expectTag(iv, 0x04, 'PBES2 iv').value);
    return Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    throw new KeystoreError('keystore password was incorrect');
  }
}

function certificatesOfSafeContents(safeContents: Buffer, out: string[]): void {
  for (const bag of children(expectTag(readDer(safeContents, 0), 0x30, 'SafeContents'))) {
    const [bagId, bagValue] = children(expectTag(bag, 0x30, 'SafeBag'));
    if (oidOf(bagId) !== OID.certBag) continue;
    const [certId, certValue] = children(expectTag(children(bagValue)[0], 0x30, 'CertBag'));
    if (oidOf(certId) !== OID.x509Certificate) continue;
    out.push(pem('CERTIFICATE', octets(children(certValue)[0])));
  }
}

/** The certificates of a PKCS12 store, as PEM. The MAC is not checked: a wrong password fails the decryption. */
export function pkcs12Certificates(content: Buffer, password: string | undefined): string[] {
  const pfx = children(expectTag(readDer(content, 0), 0x30, 'PKCS12 store'));
  const [contentType, wrapped] = children(expectTag(pfx[1], 0x30, 'PKCS12 authSafe'));
  if (oidOf(contentType) !== OID.data) throw new KeystoreError('PKCS12 stores signed with public keys are not supported');
  const authSafe = readDer(octets(children(wrapped)[0]), 0);
  const certs: string[] = [];
  for (const info of children(expectTag(authSafe, 0x30, 'AuthenticatedSafe'))) {
    const [type, explicit] = children(expectTag(info, 0x30, 'ContentInfo'));
    const inner = children(explicit)[0];
    if (oidOf(type) === OID.data) {
      certificatesOfSafeContents(octets(inner), certs);
    } else if (oidOf(type) === OID.encryptedData) {
      const [, encryptedContentInfo] = children(expectTag(inner, 0x30, 'EncryptedData'));
      const [, algorithm, encrypted] = children(expectTag(encryptedContentInfo, 0x30, 'EncryptedContentInfo'));
      const [algOid, params] = children(expectTag(algorithm, 0x30, 'encryption algorithm'));
      if (oidOf(algOid) !== OID.pbes2) {
        throw new KeystoreError(`its certificates are encrypted with ${oidOf(algOid)}, a legacy PKCS12 algorithm Node's OpenSSL 3 does not offer; rewrite it with Java 12+ keytool (keytool -importkeystore -srckeystore <file> -destkeystore <new.p12> -deststoretype PKCS12)`);
      }
      certificatesOfSafeContents(pbes2Decrypt(params, octets(encrypted), password), certs);
    }
  }
  return certs;
}

// ---- JKS ----

const jksPassword = (password: string) => Buffer.from(password, 'utf16le').swap16();
const SUN_KEY_PROTECTOR = '1.3.6.1.4.1.42.2.17.1.1';

export interface JksEntry {
  alias: string;
  /** PKCS#8 PEM, for a private key entry (decrypted with the key password). */
  key?: string;
  /** The entry's certificate, or the key's chain, as PEM. */
  certificates: string[];
}

/**
 * A JKS store's entries. With a store password its integrity is checked (Java's message when it is
 * wrong); keys are recovered with keyPassword (Kafka's ssl.key.password, else the store password).
 */
export function jksEntries(content: Buffer, storePassword: string | undefined, keyPassword = storePassword, recoverKeys = true): JksEntry[] {
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > content.length) throw new KeystoreError('truncated JKS store');
  };
  const u16 = () => (need(2), (pos += 2), content.readUInt16BE(pos - 2));
  const u32 = () => (need(4), (pos += 4), content.readUInt32BE(pos - 4));
  const bytes = (n: number) => (need(n), (pos += n), content.subarray(pos - n, pos));
  const utf = () => bytes(u16()).toString('utf8');
  if (u32() !== JKS_MAGIC) throw new KeystoreError('not a JKS store');
  const version = u32();
  if (version !== 1 && version !== 2) throw new KeystoreError(`JKS version ${version} is not supported`);
  const count = u32();
  if (count > 10_000) throw new KeystoreError(`JKS store claims ${count} entries`);
  const raw: { alias: string; encryptedKey?: Buffer; certs: Buffer[] }[] = [];
  const cert = () => {
    if (version === 2) utf(); // the certificate type, "X.509"
    return bytes(u32());
  };
  for (let i = 0; i < count; i++) {
    const tag = u32();
    const alias = utf();
    bytes(8); // creation date
    if (tag === 1) {
      const encryptedKey = bytes(u32());
      const n = u32();
      if (n > 100) throw new KeystoreError(`JKS entry ${alias} claims ${n} certificates`);
      raw.push({ alias, encryptedKey, certs: Array.from({ length: n }, cert) });
    } else if (tag === 2) {
      raw.push({ alias, certs: [cert()] });
    } else {
      throw new KeystoreError(`JKS entry ${alias} has unknown tag ${tag} (a JCEKS store?)`);
    }
  }
  if (storePassword !== undefined) {
    const expected = createHash('sha1').update(jksPassword(storePassword)).update('Mighty Aphrodite', 'utf8').update(content.subarray(0, pos)).digest();
    const actual = bytes(20);
    if (!timingSafeEqual(expected, actual)) throw new KeystoreError('Keystore was tampered with, or password was incorrect');
  }
  return raw.map(({ alias, encryptedKey, certs }) => ({
    alias,
    certificates: certs.map((c) => pem('CERTIFICATE', c)),
    ...(encryptedKey && recoverKeys ? { key: pem('PRIVATE KEY', recoverJksKey(alias, encryptedKey, keyPassword)) } : {}),
  }));
}

/** Sun's KeyProtector: salt(20) | key XOR SHA-1 keystream | SHA-1(password | key). */
function recoverJksKey(alias: string, encryptedKeyInfo: Buffer, password: string | undefined): Buffer {
  if (password === undefined) throw new KeystoreError(`JKS key ${alias} needs a password (ssl.key.password or ssl.keystore.password)`);
  const [algorithm, data] = children(expectTag(readDer(encryptedKeyInfo, 0), 0x30, 'JKS key'));
  const algOid = oidOf(children(expectTag(algorithm, 0x30, 'JKS key algorithm'))[0]);
  if (algOid !== SUN_KEY_PROTECTOR) throw new KeystoreError(`JKS key ${alias} is protected with ${algOid}, not Sun's KeyProtector`);
  const protectedKey = expectTag(data, 0x04, 'JKS key').value;
  if (protectedKey.length < 41) throw new KeystoreError(`JKS key ${alias} is truncated`);
  const pass = jksPassword(password);
  const salt = protectedKey.subarray(0, 20);
  const encrypted = protectedKey.subarray(20, protectedKey.length - 20);
  const check = protectedKey.subarray(protectedKey.length - 20);
  const plain = Buffer.alloc(encrypted.length);
  let digest: Buffer = salt;
  for (let i = 0; i < encrypted.length; i += 20) {
    digest = createHash('sha1').update(pass).update(digest).digest();
    for (let j = 0; j < 20 && i + j < encrypted.length; j++) plain[i + j] = encrypted[i + j] ^ digest[j];
  }
  if (!timingSafeEqual(createHash('sha1').update(pass).update(plain).digest(), check)) throw new KeystoreError(`Cannot recover key ${alias}: wrong ssl.key.password`);
  return plain;
}

// ---- What TLS takes ----

/** A truststore's certificates (PEM) from a PEM, PKCS12 or JKS file. */
export function truststoreCertificates(content: Buffer, password: string | undefined): string[] {
  const type = storeTypeOf(content);
  if (type === 'PEM') {
    return [...content.toString('utf8').matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => m[0] + '\n');
  }
  // As Java's trust manager: trusted certificate entries, and the certificate of each key entry.
  if (type === 'JKS') return jksEntries(content, password, undefined, false).map((e) => e.certificates[0]).filter(Boolean);
  if (type === 'PKCS12') return pkcs12Certificates(content, password);
  throw new KeystoreError('not a PEM, PKCS12 or JKS store');
}

/** A JKS keystore as Node's TLS takes it: its one private key and that key's chain. */
export function jksKeyAndChain(content: Buffer, storePassword: string | undefined, keyPassword: string | undefined): { key: string; cert: string } {
  const withKey = jksEntries(content, storePassword, keyPassword ?? storePassword).filter((e) => e.key);
  if (withKey.length !== 1) throw new KeystoreError(`the JKS keystore must hold one private key (found ${withKey.length})`);
  return { key: withKey[0].key!, cert: withKey[0].certificates.join('') };
}
