// kts certs' certificates, checked by OpenSSL (the test's only use of it) and by Node's own TLS.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { makeCertificate, newKeyPair, type DistinguishedName } from '../../../src/security/x509.js';
import { tempDir } from '../../helpers/broker.js';
import { findTool } from '../../helpers/tools.js';

test('a CA and a leaf signed by it: OpenSSL verifies the chain strictly; names, SANs and usages as asked', () => {
  const ca = newKeyPair();
  const caDn: DistinguishedName = [['O', 'kts'], ['CN', 'kts dev CA']];
  const caPem = makeCertificate({ subject: caDn, issuer: caDn, publicKey: ca.publicKey, issuerKey: ca.privateKey, issuerPublicKey: ca.publicKey, ca: true, days: 30 });
  const leaf = newKeyPair();
  const leafPem = makeCertificate({
    subject: [['C', 'US'], ['O', 'kts'], ['OU', 'dev'], ['CN', 'broker, one']],
    issuer: caDn,
    publicKey: leaf.publicKey,
    issuerKey: ca.privateKey,
    issuerPublicKey: ca.publicKey,
    ca: false,
    altNames: ['localhost', '127.0.0.1', '::1'],
    days: 30,
  });
  const caCert = new X509Certificate(caPem);
  const leafCert = new X509Certificate(leafPem);
  expect(caCert.ca).toBe(true);
  expect(leafCert.ca).toBe(false);
  expect(leafCert.verify(ca.publicKey)).toBe(true);
  expect(leafCert.checkIssued(caCert)).toBe(true);
  expect(leafCert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  expect(leafCert.subject).toBe('C=US\nO=kts\nOU=dev\nCN=broker\\, one');
  expect(leafCert.checkHost('localhost')).toBe('localhost');
  expect(leafCert.checkIP('127.0.0.1')).toBe('127.0.0.1');
  expect(new Date(leafCert.validTo).getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);

  const openssl = findTool('openssl', ['/usr/bin/openssl']);
  if (!openssl) return;
  const dir = tempDir();
  writeFileSync(join(dir, 'ca.pem'), caPem);
  writeFileSync(join(dir, 'leaf.pem'), leafPem);
  const out = execFileSync(openssl, ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
  expect(out.trim()).toBe(`${join(dir, 'leaf.pem')}: OK`);
  execFileSync(openssl, ['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')]);
});

test('a certificate past 2049 ends in a GeneralizedTime that Node reads back', () => {
  const k = newKeyPair();
  const dn: DistinguishedName = [['CN', 'long']];
  const pem = makeCertificate({ subject: dn, issuer: dn, publicKey: k.publicKey, issuerKey: k.privateKey, issuerPublicKey: k.publicKey, ca: true, days: 40 * 365 });
  expect(new Date(new X509Certificate(pem).validTo).getUTCFullYear()).toBeGreaterThanOrEqual(2060);
});
