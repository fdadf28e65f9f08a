// The SASL pieces on their own: Kafka's JAAS syntax, the unsecured-JWS validator's rules, and the
// SCRAM server against kts's own SCRAM client (interop with other clients is in test/e2e/security).
import { expect, test } from 'vitest';
import { parseJaas } from '../../../src/broker/security/sasl/jaas.js';
import { validateUnsecuredToken, validatorOptions } from '../../../src/broker/security/sasl/oauthbearer.js';
import { PlainServer, plainUsers } from '../../../src/broker/security/sasl/plain.js';
import { newCredential, parseCredential, formatCredential, ScramServer } from '../../../src/broker/security/sasl/scram.js';
import { authenticate, unsecuredToken } from '../../../src/client/sasl.js';

test("Kafka's JAAS syntax: quoted and bare values, escapes, several entries; malformed text refused", () => {
  const [e] = parseJaas('org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="a \\"b\\"" user_admin="admin-secret" user_alice=alice-secret;');
  expect(e.loginModule).toBe('org.apache.kafka.common.security.plain.PlainLoginModule');
  expect(e.flag).toBe('required');
  expect(Object.fromEntries(e.options)).toEqual({ username: 'admin', password: 'a "b"', user_admin: 'admin-secret', user_alice: 'alice-secret' });
  expect([...plainUsers(e.options)]).toEqual([['admin', 'admin-secret'], ['alice', 'alice-secret']]);
  expect(parseJaas('A required; B optional x=1;').map((x) => x.loginModule)).toEqual(['A', 'B']);
  expect(() => parseJaas('PlainLoginModule required user_a="x"')).toThrow(/does not end with ;/);
  expect(() => parseJaas('PlainLoginModule mandatory;')).toThrow(/Invalid JAAS config/);
  expect(() => parseJaas('M required k="open;')).toThrow(/unterminated/);
});

test('PLAIN: the right password passes, anything else is refused the same way', () => {
  const users = new Map([['alice', 'alice-secret']]);
  expect(new PlainServer(users).step(Buffer.from('\0alice\0alice-secret')).authorizationId).toBe('alice');
  expect(new PlainServer(users).step(Buffer.from('alice\0alice\0alice-secret')).authorizationId).toBe('alice');
  for (const bad of ['\0alice\0wrong', '\0bob\0alice-secret', '\0alice\0', 'x\0alice\0alice-secret', 'nonsense']) {
    expect(() => new PlainServer(users).step(Buffer.from(bad)), bad).toThrow();
  }
});

test('unsecured JWS: alg none, a principal claim, exp in the future (with the allowed skew), iat not ahead, required scope', () => {
  const now = 1_800_000_000_000;
  const opts = validatorOptions(undefined, () => now);
  expect(validateUnsecuredToken(unsecuredToken('carol', 60, now), opts).principal).toBe('carol');
  expect(() => validateUnsecuredToken(unsecuredToken('carol', -1, now), opts)).toThrow(/expired/);
  expect(validateUnsecuredToken(unsecuredToken('carol', -1, now), validatorOptions(new Map([['unsecuredValidatorAllowableClockSkewMs', '5000']]), () => now)).principal).toBe('carol');
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  expect(() => validateUnsecuredToken(`${part({ alg: 'HS256' })}.${part({ sub: 'x', exp: now / 1000 + 60 })}.`, opts)).toThrow(/alg "none"/);
  expect(() => validateUnsecuredToken(`${part({ alg: 'none' })}.${part({ exp: now / 1000 + 60 })}.`, opts)).toThrow(/principal claim sub/);
  expect(() => validateUnsecuredToken(`${part({ alg: 'none' })}.${part({ sub: 'x' })}.`, opts)).toThrow(/exp/);
  expect(() => validateUnsecuredToken(`${part({ alg: 'none' })}.${part({ sub: 'x', exp: now / 1000 + 60, iat: now / 1000 + 600 })}.`, opts)).toThrow(/iat/);
  expect(() => validateUnsecuredToken(`${part({ alg: 'none' })}.${part({ sub: 'x', exp: now / 1000 + 60 })}.sig`, opts)).toThrow(/empty signature/);
  expect(() => validateUnsecuredToken('a.b', opts)).toThrow(/three/);
  const scoped = validatorOptions(new Map([['unsecuredValidatorRequiredScope', 'read write']]), () => now);
  expect(() => validateUnsecuredToken(unsecuredToken('x', 60, now, { scope: 'read' }), scoped)).toThrow(/write/);
  expect(validateUnsecuredToken(unsecuredToken('x', 60, now, { scope: 'read write' }), scoped).principal).toBe('x');
});

test('SCRAM-SHA-256 and -512: the stored form round-trips; the right password completes with the server signature checked, a wrong one is refused', async () => {
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    const stored = newCredential(mechanism, 'pässword', 4096);
    const back = parseCredential(formatCredential(stored))!;
    expect(back.storedKey.equals(stored.storedKey) && back.serverKey.equals(stored.serverKey) && back.iterations === 4096).toBe(true);
    const lookup = (m: string, user: string) => (m === mechanism && user === 'u,=x' ? back : undefined);
    const exchange = (server: ScramServer) => async (token: Buffer) => (await server.step(token)).challenge;
    const server = new ScramServer(mechanism, lookup);
    await authenticate({ mechanism, username: 'u,=x', password: 'pässword' }, exchange(server));
    await expect(authenticate({ mechanism, username: 'u,=x', password: 'wrong' }, exchange(new ScramServer(mechanism, lookup)))).rejects.toThrow(/invalid credentials/);
    await expect(authenticate({ mechanism, username: 'nobody', password: 'pässword' }, exchange(new ScramServer(mechanism, lookup)))).rejects.toThrow(/invalid credentials/);
  }
});
