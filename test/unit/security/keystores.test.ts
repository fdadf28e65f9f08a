// Bad store files end in one KeystoreError line, whatever their bytes claim (counts and lengths are
// checked before anything is read or allocated). keystores.test.ts (e2e) reads keytool's real stores.
import { expect, test } from 'vitest';
import { jksEntries, KeystoreError, pkcs12Certificates, storeTypeOf, truststoreCertificates } from '../../../src/security/keystores.js';

const jksHeader = (count: number) => {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(0xfeedfeed, 0);
  b.writeUInt32BE(2, 4);
  b.writeUInt32BE(count, 8);
  return b;
};

test('store types by content; garbage, truncated and oversized claims are KeystoreErrors', () => {
  expect(storeTypeOf(jksHeader(0))).toBe('JKS');
  expect(storeTypeOf(Buffer.from('-----BEGIN CERTIFICATE-----\n'))).toBe('PEM');
  expect(storeTypeOf(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x03]))).toBe('PKCS12');
  expect(() => truststoreCertificates(Buffer.from('hello'), undefined)).toThrow(new KeystoreError('not a PEM, PKCS12 or JKS store'));
  expect(() => jksEntries(jksHeader(4_000_000_000), 'x')).toThrow(/claims 4000000000 entries/);
  expect(() => jksEntries(jksHeader(1), 'x')).toThrow(/truncated JKS store/);
  // An empty JKS store whose digest is wrong: Java's message.
  expect(() => jksEntries(Buffer.concat([jksHeader(0), Buffer.alloc(20)]), 'x')).toThrow('Keystore was tampered with, or password was incorrect');
  // A DER length past the end, and BER's indefinite length.
  expect(() => pkcs12Certificates(Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00]), 'x')).toThrow(KeystoreError);
  expect(() => pkcs12Certificates(Buffer.from([0x30, 0x80, 0x00, 0x00]), 'x')).toThrow(/indefinite/);
});
