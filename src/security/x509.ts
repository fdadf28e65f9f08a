// X.509 v3 certificates for development (`kts certs`), from Node's crypto alone: Node makes keys and
// signatures but has no certificate builder, so the certificate's DER is written here (RFC 5280,
// ECDSA P-256 with SHA-256). It is enough for a local CA and its broker and client certificates;
// it parses nothing.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const seq = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const printable = (s: string) => tlv(0x13, Buffer.from(s, 'ascii'));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 | n, inner);

function integer(value: Buffer): Buffer {
  let v = value;
  while (v.length > 1 && v[0] === 0 && (v[1] & 0x80) === 0) v = v.subarray(1);
  return tlv(0x02, v[0] & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii')) : tlv(0x18, Buffer.from(iso, 'ascii'));
}

const NAME_OIDS: Record<string, string> = { C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' };

/** A distinguished name in the order given (most general first, as OpenSSL prints `C=.., O=.., CN=..`). */
export type DistinguishedName = [keyof typeof NAME_OIDS, string][];

function name(dn: DistinguishedName): Buffer {
  return seq(...dn.map(([k, v]) => set(seq(oid(NAME_OIDS[k]), k === 'C' ? printable(v) : utf8(v)))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" then 8 groups of 16 bits.
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => { const b = Buffer.alloc(2); b.writeUInt16BE(parseInt(g, 16)); return b; }));
}

export interface CertificateRequest {
  subject: DistinguishedName;
  /** The key the certificate is for. */
  publicKey: KeyObject;
  /** Who signs: the CA's name and key (a self-signed CA passes its own). */
  issuer: DistinguishedName;
  issuerKey: KeyObject;
  issuerPublicKey: KeyObject;
  ca: boolean;
  /** DNS names and IP addresses (subjectAltName); a leaf's host names must be here, not in CN. */
  altNames?: string[];
  days: number;
  now?: Date;
}

const keyId = (publicKey: KeyObject) => {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha1').update(spki).digest();
};

/** The certificate in PEM. */
export function makeCertificate(req: CertificateRequest): string {
  const now = req.now ?? new Date();
  // A minute back: a certificate made now is valid on a machine whose clock is slightly behind.
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + req.days * 86_400_000);
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const extensions: Buffer[] = [
    extension('2.5.29.19', true, seq(...(req.ca ? [bool(true)] : []))),
    // keyUsage: a CA signs certificates (keyCertSign, cRLSign); a leaf signs its handshakes.
    extension('2.5.29.15', true, req.ca ? bits(Buffer.from([0x86]), 1) : bits(Buffer.from([0xa0]), 5)),
    extension('2.5.29.14', false, octets(keyId(req.publicKey))),
    extension('2.5.29.35', false, seq(tlv(0x80, keyId(req.issuerPublicKey)))),
  ];
  if (!req.ca) {
    extensions.push(extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))));
    if (req.altNames?.length) {
      const names = req.altNames.map((n) => (isIPv4(n) || isIPv6(n) ? tlv(0x87, ipBytes(n)) : tlv(0x82, Buffer.from(n, 'ascii'))));
      extensions.push(extension('2.5.29.17', false, seq(...names)));
    }
  }
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ecdsaWithSha256,
    name(req.issuer),
    seq(time(notBefore), time(notAfter)),
    name(req.subject),
    req.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, req.issuerKey);
  const der = seq(tbs, ecdsaWithSha256, bits(signature));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PKCS#8 PEM, as Kafka's PEM keystore reads it. */
  privateKeyPem: string;
}

export function newKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicKey: createPublicKey(privateKey), privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}
