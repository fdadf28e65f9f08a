// A compacted one-partition topic read as a log of key -> value (Connect's config, offset and
// status topics in distributed mode): created if missing, read to its end at start, then tailed;
// writes are acknowledged by all in-sync replicas before send() resolves.
import type { KafkaClient } from '../client/index.js';
import type { Producer } from '../client/producer.js';

export class KafkaLog {
  private position = 0;
  private tailing = false;
  private stopped = false;
  private readonly producer: Producer;

  constructor(
    private readonly client: KafkaClient,
    readonly topic: string,
    private readonly onRecord: (key: string, value: string | null) => void,
  ) {
    this.producer = client.producer({ acks: -1, lingerMs: 0 });
  }

  async ensureTopic(replicationFactor: number): Promise<void> {
    const [created] = await this.client.admin.createTopics([{ name: this.topic, numPartitions: 1, replicationFactor, configs: { 'cleanup.policy': 'compact' } }]);
    if (created.error && created.error.code !== 36) throw created.error; // 36: TOPIC_ALREADY_EXISTS
    for (let i = 0; i < 100; i++) {
      const md = await this.client.cluster.refresh([this.topic]);
      const t = md.topics.find((x) => x.name === this.topic);
      if (t && t.errorCode === 0 && t.partitions.every((p) => p.leader >= 0)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`topic ${this.topic} has no leader`);
  }

  /** Reads every record up to the end the broker reports now. */
  async readToEnd(): Promise<void> {
    const [end] = await this.client.admin.listOffsets([{ topic: this.topic, partition: 0, timestamp: -1 }]);
    while (this.position < end.offset) await this.fetchOnce(100);
  }

  private async fetchOnce(maxWaitMs: number): Promise<void> {
    const [r] = await this.client.fetch([{ topic: this.topic, partition: 0, offset: this.position }], { maxWaitMs });
    if (!r || r.errorCode !== 0) {
      await new Promise((res) => setTimeout(res, 100));
      return;
    }
    for (const rec of r.records) {
      if (rec.offset < this.position) continue;
      this.onRecord(rec.key?.toString('utf8') ?? '', rec.value === null ? null : rec.value.toString('utf8'));
      this.position = rec.offset + 1;
    }
    this.position = Math.max(this.position, r.nextOffset);
  }

  /** Keeps reading in the background until stop(). */
  tail(): void {
    if (this.tailing) return;
    this.tailing = true;
    void (async () => {
      while (!this.stopped) await this.fetchOnce(500).catch(() => new Promise((r) => setTimeout(r, 500)));
    })();
  }

  async send(key: string, value: string | null): Promise<void> {
    await this.producer.send(this.topic, { key: Buffer.from(key), value: value === null ? null : Buffer.from(value), partition: 0 });
  }

  stop(): void {
    this.stopped = true;
    this.producer.close();
  }
}
