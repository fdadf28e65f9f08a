// Three kts brokers on the kts coordinator, for the leadership tests (controlled shutdown, preferred
// replica election, ElectLeaders): start/stop by id, Metadata and produce/fetch through raw
// requests, and the partition state nodes read straight from ZooKeeper (with their zxids).
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { spawnCoordinator, waitFor } from '../../helpers/zookeeper.js';
import type { CoordinatorKind, RunningCoordinator } from '../../helpers/coordinators.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';
import { buildRecordBatch } from '../../../src/protocol/records/record-batch.js';
import { ZooKeeperClient, type Stat } from '../../../src/cluster/zookeeper-client.js';

export const IDS = [1, 2, 3];

export interface PartitionStateNode {
  leader: number;
  leader_epoch: number;
  isr: number[];
  stat: Stat;
}

export class ThreeBrokers {
  coordinator!: RunningCoordinator;
  readonly brokers = new Map<number, SpawnedBroker>();
  private readonly dataDirs = new Map<number, string>();
  private readonly ports = new Map<number, number>();
  private zk: ZooKeeperClient | undefined;
  /** Brokers held with SIGSTOP: stop() lets them go on first, or they could not exit. */
  private readonly paused = new Set<number>();
  /** produceOk's idempotent producer, and the next sequence it sends per partition ("topic-partition"). */
  private producer: Promise<{ producerId: number; producerEpoch: number }> | undefined;
  private readonly sequences = new Map<string, number>();

  /**
   * `tickTime` of the coordinator: it caps sessions at 20 ticks, so a test that pauses brokers
   * (SIGSTOP) on a loaded machine asks for 1000 ms ticks and 20 s sessions.
   */
  constructor(private readonly overrides: Record<string, string>, private readonly opts: { tickTime?: number; coordinator?: CoordinatorKind } = {}) {}

  async start(): Promise<void> {
    const tickTime = this.opts.tickTime ?? 500;
    this.coordinator = await (this.opts.coordinator ? this.opts.coordinator.start(tickTime) : spawnCoordinator({ props: { tickTime } }));
    await Promise.all(IDS.map((id) => this.startBroker(id)));
    this.zk = await ZooKeeperClient.connect(`127.0.0.1:${this.coordinator.port}/kafka`, { sessionTimeoutMs: 10_000 });
  }

  async startBroker(id: number): Promise<SpawnedBroker> {
    const broker = await spawnBroker({
      port: this.ports.get(id),
      dataDir: this.dataDirs.get(id),
      timeoutMs: 60_000,
      overrides: {
        'broker.id': String(id),
        'zookeeper.connect': `127.0.0.1:${this.coordinator.port}/kafka`,
        'zookeeper.session.timeout.ms': '10000',
        'replica.fetch.wait.max.ms': '200',
        ...this.overrides,
      },
    });
    this.brokers.set(id, broker);
    this.ports.set(id, broker.port);
    this.dataDirs.set(id, broker.dataDir);
    return broker;
  }

  isUp(id: number): boolean {
    const b = this.brokers.get(id);
    return !!b && b.process.exitCode === null && b.process.signalCode === null;
  }

  bootstrap(): string {
    return IDS.filter((id) => this.isUp(id)).map((id) => this.brokers.get(id)!.bootstrap).join(',');
  }

  /** Holds a broker with SIGSTOP: it stays registered (its session lives as long as it is short of the timeout). */
  pause(id: number): void {
    this.brokers.get(id)!.process.kill('SIGSTOP');
    this.paused.add(id);
  }

  resume(id: number): void {
    this.brokers.get(id)?.process.kill('SIGCONT');
    this.paused.delete(id);
  }

  /** One raw request to a broker, on a connection of its own. */
  async request(id: number, apiKey: number, version: number, body: any): Promise<any> {
    const c = await RawClient.connect(this.brokers.get(id)!.port);
    try {
      return await c.request(apiKey, version, body);
    } finally {
      c.close();
    }
  }

  async stop(): Promise<void> {
    for (const id of [...this.paused]) this.resume(id);
    await this.zk?.close();
    for (const b of this.brokers.values()) await b.stop();
    await this.coordinator?.stop();
  }

  /** The state node of a partition, as the controller last wrote it. */
  async stateNode(topic: string, partition: number): Promise<PartitionStateNode> {
    const { data, stat } = await this.zk!.getData(`/brokers/topics/${topic}/partitions/${partition}/state`);
    return { ...JSON.parse(data!.toString()), stat };
  }

  /** A znode's data as text (relative to the /kafka chroot), or null when it does not exist. */
  async nodeText(path: string): Promise<string | null> {
    const node = await this.zk!.getData(path).catch(() => null);
    return node?.data ? node.data.toString() : null;
  }

  /** Whether a znode exists (relative to the /kafka chroot). */
  async exists(path: string): Promise<boolean> {
    return (await this.zk!.exists(path)) !== null;
  }

  /** A broker's epoch in ZooKeeper mode: the czxid of its /brokers/ids registration. */
  async brokerEpoch(id: number): Promise<number> {
    return Number((await this.zk!.exists(`/brokers/ids/${id}`))!.czxid);
  }

  /** /controller's JSON, or null while there is none. */
  async controllerNode(): Promise<string | null> {
    const node = await this.zk!.getData('/controller').catch(() => null);
    return node?.data ? node.data.toString() : null;
  }

  /** The zxid of the last registration or departure under /brokers/ids. */
  async lastBrokerChangeZxid(): Promise<number> {
    return Number((await this.zk!.exists('/brokers/ids'))!.pzxid);
  }

  async createTopic(name: string, partitions: number, configs: Record<string, string> = {}, assignments?: number[][]): Promise<void> {
    const via = IDS.find((id) => this.isUp(id))!;
    const client = await RawClient.connect(this.brokers.get(via)!.port);
    try {
      const body = await client.request(19, 4, {
        topics: [{
          name,
          numPartitions: assignments ? -1 : partitions,
          replicationFactor: assignments ? -1 : 3,
          assignments: (assignments ?? []).map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
          configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
        }],
        timeoutMs: 30_000,
        validateOnly: false,
      });
      if (body.topics[0].errorCode !== 0) throw new Error(`CreateTopics ${name}: ${body.topics[0].errorCode} ${body.topics[0].errorMessage}`);
    } finally {
      client.close();
    }
    await waitFor(`${name} fully in sync`, async () => {
      for (let p = 0; p < partitions; p++) {
        const s = await this.stateNode(name, p).catch(() => null);
        if (!s || s.isr.length !== (assignments?.[p].length ?? 3)) return null;
      }
      return true;
    }, 30_000);
  }

  /** Metadata v9 of one topic, asked of broker `via`. */
  async metadata(via: number, topic: string): Promise<any> {
    const client = await RawClient.connect(this.brokers.get(via)!.port);
    try {
      const body = await client.request(3, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      return body.topics[0];
    } finally {
      client.close();
    }
  }

  /** One acks=all produce of a new batch to broker `id`, not retried. */
  produce(id: number, topic: string, partition: number, values: string[]): Promise<{ errorCode: number; baseOffset: number }> {
    return this.produceBatch(id, topic, partition, buildRecordBatch(values.map((value) => ({ value }))));
  }

  private async produceBatch(id: number, topic: string, partition: number, batch: Buffer): Promise<{ errorCode: number; baseOffset: number }> {
    const client = await RawClient.connect(this.brokers.get(id)!.port);
    try {
      const body = await client.request(0, 8, { transactionalId: null, acks: -1, timeoutMs: 20_000, topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }] });
      const r = body.responses[0].partitionResponses[0];
      return { errorCode: r.errorCode, baseOffset: Number(r.baseOffset) };
    } finally {
      client.close();
    }
  }

  /**
   * One acks=all produce to broker `id`, tried again while its cache has not caught up (NOT_LEADER,
   * UNKNOWN_TOPIC) or the request failed. Idempotent, as a client's retries must be: an error such as
   * REQUEST_TIMED_OUT or NOT_ENOUGH_REPLICAS_AFTER_APPEND (or a connection lost after the append) can
   * come after the record is in the log, and a plain retry would write it twice. Every attempt sends
   * the same batch (one producer id, the partition's next sequence), so the broker answers a repeat
   * with the offset of the record already written.
   */
  async produceOk(id: number, topic: string, partition: number, value: string): Promise<number> {
    const producer = await this.idempotentProducer(id);
    const key = `${topic}-${partition}`;
    const baseSequence = this.sequences.get(key) ?? 0;
    const records = buildRecordBatch([{ value }], { producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence });
    let last = '';
    const offset = await waitFor(`${value} acknowledged by broker ${id}`, async () => {
      const r = await this.produceBatch(id, topic, partition, records).catch((e: Error) => ({ errorCode: -1, baseOffset: -1, error: e.message }));
      if (r.errorCode === 0) return r.baseOffset + 1;
      last = 'error' in r ? r.error : `error code ${r.errorCode}`;
      return null;
    }, 30_000).catch((e: Error) => {
      throw new Error(`${e.message} (last answer: ${last})`);
    });
    this.sequences.set(key, baseSequence + 1);
    return offset - 1;
  }

  /** The producer id and epoch every produceOk uses (InitProducerId without a transactional id: ids are cluster-wide). */
  private async idempotentProducer(id: number): Promise<{ producerId: number; producerEpoch: number }> {
    this.producer ??= waitFor(`a producer id from broker ${id}`, async () => {
      const r = await this.request(id, 22, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }).catch(() => null);
      return r && r.errorCode === 0 ? { producerId: Number(r.producerId), producerEpoch: r.producerEpoch as number } : null;
    }, 30_000);
    return this.producer;
  }

  /** Every record of a partition up to its high watermark, read from broker `id`. */
  async readAll(id: number, topic: string, partition: number): Promise<string[]> {
    const client = await RawClient.connect(this.brokers.get(id)!.port);
    try {
      const fetched = await client.request(1, 11, fetchBody(topic, [{ partition, offset: 0 }], { maxBytes: 10_000_000 }));
      const p = fetched.responses[0].partitions[0];
      if (p.errorCode !== 0) throw new Error(`Fetch ${topic}-${partition} from ${id}: error ${p.errorCode}`);
      const { decodeFetchedRecords } = await import('../../../src/client/fetch.js');
      return decodeFetchedRecords(topic, partition, p.records, 0, []).records.map((r) => r.value!.toString());
    } finally {
      client.close();
    }
  }
}
