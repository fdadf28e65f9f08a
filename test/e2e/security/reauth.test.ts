// KIP-368 re-authentication (issue 16): connections.max.reauth.ms, per listener and mechanism as
// Kafka reads it, gives each SASL session a lifetime that SaslAuthenticate answers in
// session_lifetime_ms. A connection that has not re-authenticated when it ends is closed at its
// next request, unanswered; SaslHandshake + SaslAuthenticate on the same connection renew it, with
// the same mechanism and principal only (Kafka's SaslServerAuthenticator and KafkaChannel rules).
// Kafka 4.4's Java client, which re-authenticates by itself, keeps producing on its connections, and
// so does kts's own client (the tools', and the brokers' between themselves).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '../../../src/index.js';
import { unsecuredToken } from '../../../src/client/sasl.js';
import { freePort, spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { BrokerConnection } from '../../../src/client/connection.js';
import { javaRoundtrip } from './clients.js';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret" user_admin="admin-secret";';
const LIFETIME_MS = 1500;
const METADATA = { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false };

const untilPast = async (deadline: number) => {
  while (Date.now() <= deadline) await new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now() + 1)));
};

describe('SASL re-authentication (KIP-368)', () => {
  let broker: SpawnedBroker;
  let port: number;

  beforeAll(async () => {
    const [plain, sasl] = [await freePort(), await freePort()];
    port = sasl;
    broker = await spawnBroker({
      port: plain,
      overrides: {
        listeners: `PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${sasl}`,
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,OAUTHBEARER',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
        // Only PLAIN's sessions are limited by the config; OAUTHBEARER's end with their token.
        'listener.name.sasl_plaintext.plain.connections.max.reauth.ms': String(LIFETIME_MS),
      },
    });
  }, 60_000);
  afterAll(() => broker?.stop());

  /** Handshake + one SaslAuthenticate (v2); the answers, and when the session began (a bound from below). */
  const login = async (raw: RawClient, mechanism: string, token: Buffer) => {
    const handshake = await raw.request(ApiKey.SaslHandshake, 1, { mechanism });
    const before = Date.now();
    const auth = await raw.request(ApiKey.SaslAuthenticate, 2, { authBytes: token });
    return { handshake, auth, before };
  };
  const plain = (user: string, password: string) => Buffer.from(`\u0000${user}\u0000${password}`);

  it('the session lifetime is answered; past it the next request closes the connection unanswered', async () => {
    const raw = await RawClient.connect(port);
    try {
      const { auth, before } = await login(raw, 'PLAIN', plain('alice', 'alice-secret'));
      expect(auth).toMatchObject({ errorCode: ErrorCode.NONE, sessionLifetimeMs: LIFETIME_MS });
      expect((await raw.request(ApiKey.Metadata, 12, METADATA)).brokers.length).toBe(1);
      await untilPast(before + LIFETIME_MS + 20);
      let answered = false;
      raw.request(ApiKey.Metadata, 12, METADATA).then(() => (answered = true), () => {});
      await raw.waitClosed();
      expect(answered).toBe(false);
    } finally {
      raw.close();
    }
  });

  it('SaslHandshake + SaslAuthenticate mid-connection renew the session; the same principal only, the same mechanism only, at most once a second', async () => {
    const raw = await RawClient.connect(port);
    try {
      const first = await login(raw, 'PLAIN', plain('alice', 'alice-secret'));
      expect(first.auth.errorCode).toBe(ErrorCode.NONE);
      await untilPast(first.before + 1000);
      const renewStart = Date.now();
      const renewed = await login(raw, 'PLAIN', plain('alice', 'alice-secret'));
      expect(renewed.handshake).toMatchObject({ errorCode: ErrorCode.NONE, mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'OAUTHBEARER'] });
      expect(renewed.auth).toMatchObject({ errorCode: ErrorCode.NONE, sessionLifetimeMs: LIFETIME_MS });
      // Within a second of the last start a handshake is refused and the connection stays (Kafka's
      // KafkaChannel). The broker began the renewal after renewStart, so under a second here is under
      // a second there; a machine too slow for that sees a new renewal begin, and completes it.
      const early = await raw.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
      if (Date.now() - renewStart < 1000) expect(early.errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
      else if (early.errorCode === ErrorCode.NONE) expect((await raw.request(ApiKey.SaslAuthenticate, 2, { authBytes: plain('alice', 'alice-secret') })).errorCode).toBe(ErrorCode.NONE);
      // Past the first session's end the renewed one serves (it ends LIFETIME_MS after renewStart at the earliest).
      await untilPast(first.before + LIFETIME_MS + 20);
      const sent = Date.now();
      const metadata = await raw.request(ApiKey.Metadata, 12, METADATA).catch((err: Error) => err);
      if (sent < renewStart + LIFETIME_MS - 200 && Date.now() < renewStart + LIFETIME_MS) expect(metadata).toMatchObject({ brokers: [expect.anything()] });
    } finally {
      raw.close();
    }

    const other = await RawClient.connect(port);
    try {
      const first = await login(other, 'PLAIN', plain('alice', 'alice-secret'));
      await untilPast(first.before + 1000);
      const changed = await login(other, 'PLAIN', plain('admin', 'admin-secret'));
      expect(changed.auth).toMatchObject({ errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: 'Cannot change principals during re-authentication from User.alice: User.admin' });
      await other.waitClosed();
    } finally {
      other.close();
    }

    const switching = await RawClient.connect(port);
    try {
      const first = await login(switching, 'PLAIN', plain('alice', 'alice-secret'));
      await untilPast(first.before + 1000);
      // Kafka answers the handshake, then ends the exchange at the next request without an answer.
      expect((await switching.request(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' })).errorCode).toBe(ErrorCode.NONE);
      let answered = false;
      switching.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from('n,,n=alice,r=abcdefgh') }).then(() => (answered = true), () => {});
      await switching.waitClosed();
      expect(answered).toBe(false);
    } finally {
      switching.close();
    }
  });

  it('a renewal is held to the rules of a first login: no ApiVersions once it began, requests of at most sasl.server.max.receive.size', async () => {
    // OAUTHBEARER sessions here last the token's 30 s, so a slow machine does not see them end midway.
    const bearer = () => Buffer.from(`n,,\u0001auth=Bearer ${unsecuredToken('carol', 30)}\u0001\u0001`);
    // A Metadata request naming 12,000 topics is about 580 KB, over the 512 KiB (524,288 B) default.
    const bigMetadata = { ...METADATA, topics: Array.from({ length: 12_000 }, (_, i) => ({ topicId: Buffer.alloc(16), name: `no-such-topic-${String(i).padStart(15, '0')}` })) };
    const raw = await RawClient.connect(port);
    try {
      const first = await login(raw, 'OAUTHBEARER', bearer());
      expect((await raw.request(ApiKey.Metadata, 12, bigMetadata)).topics).toHaveLength(12_000); // authenticated: no SASL limit
      await untilPast(first.before + 1000); // a renewal may begin a second after the last
      const renewed = await login(raw, 'OAUTHBEARER', bearer());
      expect(renewed.auth.errorCode).toBe(ErrorCode.NONE);
      expect((await raw.request(ApiKey.Metadata, 12, bigMetadata)).topics).toHaveLength(12_000); // renewed: the limit is lifted again
    } finally {
      raw.close();
    }

    const big = await RawClient.connect(port);
    try {
      const first = await login(big, 'OAUTHBEARER', bearer());
      await untilPast(first.before + 1000); // a renewal may begin a second after the last
      expect((await big.request(ApiKey.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' })).errorCode).toBe(ErrorCode.NONE);
      let answered = false;
      big.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.alloc(600_000) }).then(() => (answered = true), () => {});
      await big.waitClosed();
      expect(answered).toBe(false);
    } finally {
      big.close();
    }

    const versions = await RawClient.connect(port);
    try {
      const first = await login(versions, 'OAUTHBEARER', bearer());
      expect((await versions.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' })).errorCode).toBe(ErrorCode.NONE);
      await untilPast(first.before + 1000); // a renewal may begin a second after the last
      expect((await versions.request(ApiKey.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' })).errorCode).toBe(ErrorCode.NONE);
      let answered = false;
      versions.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' }).then(() => (answered = true), () => {});
      await versions.waitClosed();
      expect(answered).toBe(false);
    } finally {
      versions.close();
    }
  });

  it('OAUTHBEARER: the session ends with the token (no connections.max.reauth.ms for it); a wrong password on re-authentication fails it', async () => {
    const raw = await RawClient.connect(port);
    try {
      const { auth } = await login(raw, 'OAUTHBEARER', Buffer.from(`n,,\u0001auth=Bearer ${unsecuredToken('carol', 30)}\u0001\u0001`));
      expect(auth.errorCode).toBe(ErrorCode.NONE);
      expect(auth.sessionLifetimeMs).toBeGreaterThan(25_000);
      expect(auth.sessionLifetimeMs).toBeLessThanOrEqual(30_000);
    } finally {
      raw.close();
    }
    const wrong = await RawClient.connect(port);
    try {
      const first = await login(wrong, 'PLAIN', plain('alice', 'alice-secret'));
      await untilPast(first.before + 1000);
      const again = await login(wrong, 'PLAIN', plain('alice', 'wrong'));
      expect(again.auth.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
      await wrong.waitClosed();
    } finally {
      wrong.close();
    }
  });

  it("kts's own client re-authenticates before its session ends: Metadata every 200 ms for 4 s on one connection", async () => {
    const conn = await BrokerConnection.open('127.0.0.1', port, { clientId: 'reauth-test', connectTimeoutMs: 10_000, requestTimeoutMs: 10_000, security: { sasl: { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' } } });
    try {
      const started = Date.now();
      let answered = 0;
      while (Date.now() - started < 4000) {
        expect((await conn.send(ApiKey.Metadata, 12, METADATA)).brokers.length).toBe(1);
        answered++;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(conn.closed).toBe(false);
      expect(answered).toBeGreaterThan(10);
    } finally {
      conn.close();
    }
  });

  it('the Java client (4.4) re-authenticates on its connections and keeps producing without a reconnection', async () => {
    const values = Array.from({ length: 24 }, (_, i) => `v${i}`);
    const security = { sasl: { mechanism: 'PLAIN' as const, username: 'alice', password: 'alice-secret' } };
    const result = await javaRoundtrip(`127.0.0.1:${port}`, 'reauth-java', values, security, 6000);
    expect(result.consumed).toEqual(values);
    // About 6 s of sends on a 1.5 s session: at least two renewals, none failed, no connection lost.
    expect(result.producer['successful-reauthentication-total']).toBeGreaterThanOrEqual(2);
    expect(result.producer['failed-reauthentication-total']).toBe(0);
    expect(result.producer['connection-close-total']).toBe(0);
  }, 180_000);
});
