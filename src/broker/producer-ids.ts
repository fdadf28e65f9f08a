// Producer ids for idempotent producers. Ids are handed out from blocks of PRODUCER_ID_BLOCK_SIZE;
// a block is claimed durably (the next block's start is written to the first log dir, atomically,
// before any id of the claimed block is given out), so a restart — even after kill -9 — never
// hands out an id again. Kafka does the same with ZooKeeper's /latest_producer_id_block.
import { nodeFileSystem, readSmallFile, writeFileAtomic, type FileSystem } from '../storage/file-system.js';
import type { BrokerContext } from './broker-context.js';

export const PRODUCER_ID_BLOCK_SIZE = 1000;
export const PRODUCER_ID_FILE = 'kts-producer-id-block.json';

export class ProducerIdManager {
  private next = 0;
  private blockEnd = 0;
  private chain: Promise<unknown> = Promise.resolve();

  /**
   * `claimFromCluster`: in a ZooKeeper cluster blocks come from /latest_producer_id_block (shared by
   * every broker) instead of the data dir's file.
   */
  constructor(
    private readonly dir: string,
    private readonly fs: FileSystem = nodeFileSystem,
    private readonly claimFromCluster?: (size: number) => Promise<number>,
  ) {}

  /** A producer id never handed out before by this data dir. */
  generate(): Promise<number> {
    const run = this.chain.then(async () => {
      if (this.next >= this.blockEnd) await this.claimBlock();
      return this.next++;
    });
    this.chain = run.catch(() => {});
    return run;
  }

  private async claimBlock(): Promise<void> {
    if (this.claimFromCluster) {
      this.next = await this.claimFromCluster(PRODUCER_ID_BLOCK_SIZE);
      this.blockEnd = this.next + PRODUCER_ID_BLOCK_SIZE;
      return;
    }
    await this.fs.mkdir(this.dir, { recursive: true });
    const raw = await readSmallFile(this.fs, `${this.dir}/${PRODUCER_ID_FILE}`);
    let start = 0;
    if (raw) {
      const parsed = JSON.parse(raw.toString('utf8')) as { next_block_start?: unknown };
      if (typeof parsed.next_block_start !== 'number' || !Number.isSafeInteger(parsed.next_block_start) || parsed.next_block_start < 0) {
        throw new Error(`${PRODUCER_ID_FILE} is damaged: ${raw.toString('utf8').slice(0, 100)}`);
      }
      start = parsed.next_block_start;
    }
    const end = start + PRODUCER_ID_BLOCK_SIZE;
    const body = JSON.stringify({ version: 1, next_block_start: end, claimed_block: [start, end - 1] });
    await writeFileAtomic(this.fs, this.dir, PRODUCER_ID_FILE, Buffer.from(`${body}\n`));
    this.next = start;
    this.blockEnd = end;
  }
}

const managers = new WeakMap<object, ProducerIdManager>();

/** The broker's one producer id source, shared by idempotent and transactional InitProducerId. */
export function producerIdManagerFor(broker: Pick<BrokerContext, 'config' | 'topics' | 'logs'>): ProducerIdManager {
  let m = managers.get(broker.config);
  if (!m) {
    const topics = broker.topics;
    const fromCluster = topics.claimProducerIdBlock ? (size: number) => topics.claimProducerIdBlock!(size) : undefined;
    m = new ProducerIdManager(broker.config.logDirs[0], broker.logs.fileSystem, fromCluster);
    managers.set(broker.config, m);
  }
  return m;
}
