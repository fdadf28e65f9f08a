// The broker's request path in-process, without sockets: config, storage, topics, group coordinator,
// handler registry and RequestDispatcher wired as startBroker wires them, so fuzz cases reach the
// handlers at decoder speed. A case's outcome is what the connection would do with it:
// a response, no response, or a rejection (the connection is closed). A rejection that is not a
// ProtocolError means a handler threw (logged as "Error handling ..."): counted separately.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerConfig } from '../../src/config/broker-config.js';
import { TopicRegistry } from '../../src/cluster/topic-registry.js';
import { LogManager } from '../../src/storage/index.js';
import { GroupCoordinator } from '../../src/broker/groups/index.js';
import { createHandlerRegistry } from '../../src/broker/handlers/index.js';
import { createLogger } from '../../src/broker/logger.js';
import { RequestDispatcher } from '../../src/broker/request-dispatcher.js';
import type { BrokerContext } from '../../src/broker/broker-context.js';
import type { Connection } from '../../src/broker/network/connection.js';
import { ProtocolError, encodeRequest } from '../../src/protocol/index.js';
import { buildRecordBatch } from '../../src/protocol/records/index.js';
import { API_SCHEMAS } from '../../src/protocol/index.js';
import { Rng, hostileFrame, mutate, seeds, servedSeeds } from './engine.js';

export interface Harness {
  dispatch(frame: Buffer): Promise<Buffer[] | null>;
  handlerErrors: string[];
  close(): Promise<void>;
}

export async function openHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'kts-fuzz-'));
  const handlerErrors: string[] = [];
  const log = createLogger({
    level: 'error',
    component: 'fuzz',
    write: (line) => {
      if (handlerErrors.length < 50) handlerErrors.push(line.slice(0, 1500));
    },
  });
  const config = new BrokerConfig(
    new Map([
      ['log.dirs', dir],
      ['listeners', 'PLAINTEXT://127.0.0.1:9092'],
      ['group.initial.rebalance.delay.ms', '0'],
      ['offsets.topic.num.partitions', '2'],
      ['num.partitions', '1'],
    ]),
  );
  const now = Date.now;
  const logs = await LogManager.open({ logDirs: config.logDirs, defaults: config.logConfig(), now, logger: log.child('log') });
  const topics = await TopicRegistry.open(config, logs);
  topics.setSelf({ nodeId: config.nodeId, host: '127.0.0.1', port: 9092, rack: null });
  const context = { nodeId: config.nodeId, clusterId: topics.clusterId, config, logs, topics, groups: undefined as unknown, log, advertised: { host: '127.0.0.1', port: 9092 }, now } as BrokerContext;
  const groups = await GroupCoordinator.start({ logs, topics, config, now, log: log.child('group'), nodeId: config.nodeId });
  (context as { groups: GroupCoordinator }).groups = groups;
  const dispatcher = new RequestDispatcher(context, createHandlerRegistry());
  const connection = { id: 1, remoteAddress: '127.0.0.1:40000', isClosed: false, close() {}, socket: {} } as unknown as Connection;
  // Topics the fuzz cases name (HOSTILE_STRINGS), with data in them, so reads and offsets have something to find.
  const setup = async (apiKey: number, version: number, body: object) => dispatcher.dispatch(Buffer.concat(encodeRequest(apiKey, version, 1, 'setup', body)).subarray(4), connection);
  await setup(19, 4, { topics: [{ name: 'fuzz-topic', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  await setup(0, 7, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: 'fuzz-topic', partitionData: [{ index: 0, records: buildRecordBatch([{ key: Buffer.from('k'), value: Buffer.from('v') }]) }] }],
  });
  return {
    dispatch: (frame) => dispatcher.dispatch(frame, connection),
    handlerErrors,
    async close() {
      await groups.close();
      await topics.close();
      await logs.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface HandlerFuzzResult {
  cases: number;
  responses: number;
  noResponse: number;
  /** ProtocolError: the connection would be closed, as Kafka closes it on bytes it cannot parse. */
  closedByProtocolError: number;
  /** A handler (or the response encoder) threw: the broker logs and closes that connection. */
  handlerExceptions: number;
  /** Still waiting after the per-case limit (long-poll Fetch, JoinGroup waiting for members). */
  stillWaiting: number;
  perApi: Map<string, number>;
  ms: number;
}

/** Sends `cases` hostile or mutated frames through the dispatcher, at most `waitMs` each. */
export async function runHandlerFuzz(h: Harness, cases: number, seed: number, waitMs = 20): Promise<HandlerFuzzResult> {
  const all = seeds();
  const served = servedSeeds();
  const rng = new Rng(seed);
  const names = new Map(API_SCHEMAS.map((a) => [a.apiKey, a.name]));
  const res: HandlerFuzzResult = { cases: 0, responses: 0, noResponse: 0, closedByProtocolError: 0, handlerExceptions: 0, stillWaiting: 0, perApi: new Map(), ms: 0 };
  const started = Date.now();
  const WAITING = Symbol('waiting');
  for (let i = 0; i < cases; i++) {
    const s = rng.chance(0.9) ? served[rng.int(served.length)] : all[rng.int(all.length)];
    // Mostly well-formed bodies with hostile values (they get into the handlers), some byte mutations.
    const frame = (rng.chance(0.75) ? hostileFrame(s.apiKey, s.version, rng, i) : null) ?? mutate(s.frame, rng, all);
    const apiKey = frame.length >= 2 ? frame.readInt16BE(0) : -1;
    const name = names.get(apiKey) ?? 'other';
    res.perApi.set(name, (res.perApi.get(name) ?? 0) + 1);
    res.cases++;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<typeof WAITING>((r) => (timer = setTimeout(() => r(WAITING), waitMs)));
    type Outcome = 'response' | 'none' | 'protocol' | 'exception';
    const outcome: Promise<Outcome> = h.dispatch(frame).then(
      (r): Outcome => (r ? 'response' : 'none'),
      (err): Outcome => (err instanceof ProtocolError ? 'protocol' : 'exception'),
    );
    const r = await Promise.race([outcome, waited]);
    clearTimeout(timer);
    if (r === WAITING) {
      res.stillWaiting++;
      // Count it when it ends (not awaited further).
      void outcome.then((late) => {
        if (late === 'exception') res.handlerExceptions++;
      });
    } else if (r === 'response') res.responses++;
    else if (r === 'none') res.noResponse++;
    else if (r === 'protocol') res.closedByProtocolError++;
    else res.handlerExceptions++;
  }
  res.ms = Date.now() - started;
  return res;
}
