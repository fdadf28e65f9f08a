// Issue 15 must-show 3: 100 in-memory brokers started and closed in one test file give back every
// descriptor, handle and the heap they took. Each broker is used (a topic auto-created, a record
// produced and fetched back, a fault rule added) so that its logs, coordinator and connections exist.
import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode, startBroker, type BrokerHandle } from '../../src/index.js';
import { buildRecordBatch } from '../../src/protocol/records/index.js';
import { RawClient } from '../helpers/raw-client.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const descriptors = () => readdirSync('/proc/self/fd').length;
const handles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;

async function settle(): Promise<number> {
  // Closed sockets and timers leave the handle list on later turns; weak objects after several collections.
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 20));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

async function use(broker: BrokerHandle, i: number): Promise<void> {
  const c = await RawClient.connect(broker.port);
  try {
    const md = await c.request(ApiKey.Metadata, 9, { topics: [{ name: 'kit' }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    expect(md.topics[0].errorCode).toBe(ErrorCode.NONE);
    const records = buildRecordBatch([{ value: Buffer.from(`broker ${i}`) }]);
    const produced = await c.request(ApiKey.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'kit', partitionData: [{ index: 0, records }] }] });
    expect(produced.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.NONE);
    const rule = broker.faults.inject({ apiKey: ApiKey.Heartbeat, errorCode: ErrorCode.REBALANCE_IN_PROGRESS });
    const fetched = await c.request(ApiKey.Fetch, 11, {
      replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'kit', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    expect(fetched.responses[0].partitions[0].records.length).toBeGreaterThan(0);
    if (i % 2 === 0) rule.remove(); // the others are left for close() to drop
  } finally {
    c.close();
    await c.waitClosed().catch(() => {});
  }
}

/** 100 brokers up at once (started 10 at a time), each used, then all closed; returns what it saw. */
async function round(): Promise<{ elapsed: number; fdsWhileUp: number; heapWhileUp: number }> {
  const t0 = Date.now();
  const brokers: BrokerHandle[] = [];
  for (let i = 0; i < 100; i += 10) {
    brokers.push(...(await Promise.all(Array.from({ length: 10 }, () => startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'error' })))));
  }
  expect(new Set(brokers.map((b) => b.port)).size).toBe(100);
  for (const [i, b] of brokers.entries()) await use(b, i);
  const fdsWhileUp = descriptors();
  const heapWhileUp = process.memoryUsage().heapUsed;
  await Promise.all(brokers.map((b) => b.close()));
  return { elapsed: Date.now() - t0, fdsWhileUp, heapWhileUp };
}

describe('100 in-memory brokers in one file', () => {
  it('are started, used and closed, and descriptors, handles and heap return to where they were', async () => {
    await settle();
    const fdsAtStart = descriptors();
    const handlesAtStart = handles();
    // The first round also loads modules, compiles codecs and grows the runtime's caches (about
    // 1.5 MB of heap that stays): the heap baseline is taken after it, descriptors and handles before.
    const first = await round();
    const heapBefore = await settle();
    expect(descriptors()).toBe(fdsAtStart);
    expect(handles()).toBe(handlesAtStart);

    const second = await round();
    const heapAfter = await settle();
    const fdsAfter = descriptors();
    const handlesAfter = handles();
    console.log(
      `100 in-memory brokers up at once, used and closed: ${first.elapsed} ms (first round), ${second.elapsed} ms (second); ` +
        `descriptors ${fdsAtStart} -> ${second.fdsWhileUp} -> ${fdsAfter}; handles ${handlesAtStart} -> ${handlesAfter}; ` +
        `heap ${(heapBefore / 2 ** 20).toFixed(1)} -> ${(second.heapWhileUp / 2 ** 20).toFixed(1)} -> ${(heapAfter / 2 ** 20).toFixed(1)} MB`,
    );
    expect(second.fdsWhileUp).toBeGreaterThanOrEqual(fdsAtStart + 100); // each broker held its listener at least
    expect(fdsAfter).toBe(fdsAtStart);
    expect(handlesAfter).toBe(handlesAtStart);
    // A leak of even 10 KB per broker would leave 1 MB.
    expect(heapAfter - heapBefore).toBeLessThan(2 ** 20);
  });
});
