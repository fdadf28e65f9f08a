// kts inside users' tests, slices 2 and 3: broker.faults (answer with an error, delay, drop the
// connection, hold until released; one-shot and persistent; by API, topic and group) and
// broker.requests() (what was asked and answered, bounded), driven by bare requests so every
// answer can be checked field by field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode, startBroker, type BrokerHandle } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: BrokerHandle;
beforeAll(async () => {
  broker = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'warn' });
});
afterAll(() => broker.close());

const heartbeat = (c: RawClient, groupId = 'g') => c.request(ApiKey.Heartbeat, 4, { groupId, generationId: 1, memberId: 'm', groupInstanceId: null });
const findCoordinator = (c: RawClient, key: string) => c.request(ApiKey.FindCoordinator, 3, { key, keyType: 0 });
const metadata = (c: RawClient, topics: string[]) => c.request(ApiKey.Metadata, 9, { topics: topics.map((name) => ({ name })), allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });

describe('broker.faults', () => {
  it('answers a one-shot rule once with a well-formed error response, then serves as before', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      const rule = broker.faults.inject({ apiKey: ApiKey.Heartbeat, errorCode: ErrorCode.REBALANCE_IN_PROGRESS, times: 1 });
      expect((await heartbeat(c)).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
      expect(rule.matched).toBe(1);
      // The group does not exist: the broker's own answer.
      expect((await heartbeat(c)).errorCode).not.toBe(ErrorCode.REBALANCE_IN_PROGRESS);
      expect(broker.faults.active).toBe(false);
    } finally {
      c.close();
    }
  });

  it('keeps a persistent rule until remove(), and matches by group and by topic', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      const rule = broker.faults.inject({ apiKey: ApiKey.FindCoordinator, group: 'only-this', errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE });
      for (let i = 0; i < 3; i++) {
        const answer = await findCoordinator(c, 'only-this');
        expect(answer).toMatchObject({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, nodeId: -1, host: '', port: -1 });
      }
      expect((await findCoordinator(c, 'another')).errorCode).toBe(ErrorCode.NONE);
      rule.remove();
      expect((await findCoordinator(c, 'only-this')).errorCode).toBe(ErrorCode.NONE);
      expect(rule.matched).toBe(3);

      const byTopic = broker.faults.inject({ apiKey: ApiKey.Metadata, topic: 'hidden', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED });
      const hidden = await metadata(c, ['hidden', 'other']);
      expect(hidden.topics.map((t: { name: string; errorCode: number }) => [t.name, t.errorCode])).toEqual([
        ['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
        ['other', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ]);
      expect((await metadata(c, ['other'])).topics[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      byTopic.remove();
    } finally {
      c.close();
    }
  });

  it('delays, drops the connection, and tries rules in the order they were added', async () => {
    const c = await RawClient.connect(broker.port);
    broker.clearRequests();
    try {
      const slow = broker.faults.inject({ apiKey: ApiKey.Heartbeat, delayMs: 300, times: 1 });
      const t0 = Date.now();
      expect((await heartbeat(c)).errorCode).not.toBe(ErrorCode.REBALANCE_IN_PROGRESS);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      expect(slow.matched).toBe(1);
      const [recorded] = broker.requests().filter((r) => r.apiKey === ApiKey.Heartbeat);
      expect(recorded.durationMs).toBeGreaterThanOrEqual(290);
      expect(recorded.fault).toBe('pass');

      const first = broker.faults.inject({ apiKey: ApiKey.Heartbeat, errorCode: ErrorCode.NOT_COORDINATOR, times: 1 });
      broker.faults.inject({ apiKey: ApiKey.Heartbeat, dropConnection: true, times: 1 });
      expect((await heartbeat(c)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
      expect(first.matched).toBe(1);
      await expect(heartbeat(c)).rejects.toThrow(/connection closed/);
      await c.waitClosed();
      const dropped = broker.requests().filter((r) => r.apiKey === ApiKey.Heartbeat).at(-1)!;
      expect(dropped).toMatchObject({ fault: 'drop', response: null, errorCode: 0 });
    } finally {
      c.close();
    }
  });

  it('pause() holds matching requests until release(), so an interleaving can be forced', async () => {
    const c = await RawClient.connect(broker.port);
    const d = await RawClient.connect(broker.port);
    try {
      const pause = broker.faults.pause({ apiKey: ApiKey.Metadata, times: 1 });
      let answered = false;
      const held = metadata(c, []).then((r) => {
        answered = true;
        return r;
      });
      await pause.waitForHeld(1);
      expect(pause.held).toBe(1);
      // Other requests, on this connection's neighbour, go on meanwhile.
      expect((await findCoordinator(d, 'g')).errorCode).toBe(ErrorCode.NONE);
      expect(answered).toBe(false);
      pause.release();
      expect((await held).brokers).toHaveLength(1);

      // A pause with an error: held, then answered with it.
      const then = broker.faults.pause({ apiKey: ApiKey.Heartbeat, errorCode: ErrorCode.REBALANCE_IN_PROGRESS });
      const first = heartbeat(c);
      const second = heartbeat(d);
      await then.waitForHeld(2);
      then.remove();
      expect((await first).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
      expect((await second).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    } finally {
      c.close();
      d.close();
    }
  });

  it('refuses rules it cannot follow, with a clear error', () => {
    expect(() => broker.faults.inject({ apiKey: ApiKey.Produce, errorCode: 6, tims: 1 } as never)).toThrow(/unknown fault rule field 'tims'/);
    expect(() => broker.faults.inject({ apiKey: ApiKey.Produce, times: 0 })).toThrow(/times must be an integer from 1/);
    expect(() => broker.faults.inject({ apiKey: 9999 })).toThrow(/apiKey/);
    expect(() => broker.faults.inject({ apiKey: ApiKey.Produce, errorCode: 6, dropConnection: true })).toThrow(/not both/);
    expect(broker.faults.active).toBe(false);
  });
});

describe('broker.requests()', () => {
  it('records API, version, client id, decoded request and response, error code and timing', async () => {
    broker.clearRequests();
    const c = await RawClient.connect(broker.port);
    try {
      const before = Date.now();
      await c.request(ApiKey.FindCoordinator, 3, { key: 'rec', keyType: 0 }, 'my-client');
      broker.faults.inject({ apiKey: ApiKey.Heartbeat, errorCode: ErrorCode.REBALANCE_IN_PROGRESS, times: 1 });
      await heartbeat(c, 'rec');
      const [find, hb] = broker.requests();
      expect(find).toMatchObject({ apiKey: ApiKey.FindCoordinator, apiVersion: 3, clientId: 'my-client', errorCode: 0, request: { key: 'rec', keyType: 0 } });
      expect((find.response as { nodeId: number }).nodeId).toBe(broker.nodeId);
      expect(find.startedAt).toBeGreaterThanOrEqual(before);
      expect(find.durationMs).toBeGreaterThanOrEqual(0);
      expect(hb).toMatchObject({ apiKey: ApiKey.Heartbeat, apiVersion: 4, errorCode: ErrorCode.REBALANCE_IN_PROGRESS, fault: 'error', request: { groupId: 'rec' } });
      expect(broker.requestTrace()).toMatch(/FindCoordinator v3 client=my-client .* -> NONE[\s\S]*Heartbeat v4 .* -> REBALANCE_IN_PROGRESS \[fault: error\]/);
    } finally {
      c.close();
    }
  });

  it('keeps only the newest entries (bounded), and nothing when turned off', async () => {
    const small = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'warn', recordRequests: 5 });
    const none = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'warn', recordRequests: false });
    try {
      for (const b of [small, none]) {
        const c = await RawClient.connect(b.port);
        for (let i = 0; i < 12; i++) await findCoordinator(c, `k${i}`);
        c.close();
      }
      expect(small.requests().map((r) => (r.request as { key: string }).key)).toEqual(['k7', 'k8', 'k9', 'k10', 'k11']);
      expect(none.requests()).toEqual([]);
    } finally {
      await small.close();
      await none.close();
    }
  });
});
