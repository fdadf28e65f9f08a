// A broker whose metadata cache lags (a cluster: another broker created the topic, this one has not
// heard yet) fails its own auto-creation with TOPIC_ALREADY_EXISTS and still cannot see the topic.
// Kafka answers such a topic LEADER_NOT_AVAILABLE, a retriable error, so the client asks again; 36 is
// not retriable for a Metadata topic, and clients gave up on it. The Metadata handler is driven in
// process on a real TopicRegistry, whose create is made to answer as it does in that gap.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { BrokerConfig } from '../../../../src/config/broker-config.js';
import { TopicRegistry } from '../../../../src/cluster/topic-registry.js';
import { LogManager } from '../../../../src/storage/index.js';
import { createLogger } from '../../../../src/broker/logger.js';
import { createHandlerRegistry } from '../../../../src/broker/handlers/index.js';
import metadataHandler from '../../../../src/broker/handlers/03-metadata.js';
import type { BrokerContext } from '../../../../src/broker/broker-context.js';
import type { RequestContext } from '../../../../src/broker/api-handler.js';
import { ANONYMOUS } from '../../../../src/broker/security/principal.js';
import { ErrorCode, KafkaError } from '../../../../src/protocol/errors.js';

let dir: string;
let logs: LogManager;
let topics: TopicRegistry;
let ctx: (apiVersion: number) => RequestContext;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kts-metadata-race-'));
  const log = createLogger({ level: 'error', component: 'test', write: () => {} });
  const config = new BrokerConfig(
    new Map([
      ['log.dirs', dir],
      ['listeners', 'PLAINTEXT://127.0.0.1:9092'],
      ['auto.create.topics.enable', 'true'],
      ['num.partitions', '1'],
    ]),
  );
  logs = await LogManager.open({ logDirs: config.logDirs, defaults: config.logConfig(), now: Date.now, logger: log.child('log') });
  topics = await TopicRegistry.open(config, logs);
  topics.setSelf({ nodeId: config.nodeId, host: '127.0.0.1', port: 9092, rack: null });
  const broker = { nodeId: config.nodeId, clusterId: topics.clusterId, config, logs, topics, log, now: Date.now } as unknown as BrokerContext;
  const registry = createHandlerRegistry();
  ctx = (apiVersion) => ({ apiVersion, correlationId: 1, clientId: 'test', broker, connection: { id: 1, remoteAddress: '127.0.0.1:40000', principal: ANONYMOUS, listenerName: 'PLAINTEXT', securityProtocol: 'PLAINTEXT' }, registry });
});

afterEach(async () => {
  await topics.close();
  await logs.close();
  rmSync(dir, { recursive: true, force: true });
});

test('auto-creation that loses to another broker (TOPIC_ALREADY_EXISTS, not in the cache yet) answers LEADER_NOT_AVAILABLE, for every version', async () => {
  topics.create = async (name: string) => {
    throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
  };
  for (const version of [0, 3, 4, 12]) {
    const res = (await metadataHandler.handle({ topics: [{ name: 'raced', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }, ctx(version))) as {
      topics: { name: string; errorCode: number; partitions: unknown[] }[];
    };
    expect(res.topics, `v${version}`).toEqual([expect.objectContaining({ name: 'raced', errorCode: ErrorCode.LEADER_NOT_AVAILABLE, partitions: [] })]);
  }
});

test('other auto-creation failures keep their own code (a policy refusal is not retried forever)', async () => {
  topics.create = async () => {
    throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'replication factor 3 is larger than 1 available broker');
  };
  const res = (await metadataHandler.handle({ topics: [{ name: 'refused', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }, ctx(12))) as {
    topics: { errorCode: number }[];
  };
  expect(res.topics[0].errorCode).toBe(ErrorCode.INVALID_REPLICATION_FACTOR);
});
