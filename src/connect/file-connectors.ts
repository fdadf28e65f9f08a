// Kafka's FileStreamSource and FileStreamSink connectors (connect-file), same config keys and
// offsets: the source reads complete lines of `file` (a line without its newline waits for it) and
// records { filename } -> { position } after each; the sink prints each record's value as Java's
// toString would, one per line.
//
// kts's sink is exactly-once in its file: every offset commit carries the file's length at that
// moment (OffsetCommit metadata), and on start the file is cut back to the committed length, so
// lines written after the last commit (the worker killed before committing them) are written again
// exactly once when their records are delivered again.
import { open, stat, truncate, type FileHandle } from 'node:fs/promises';
import type { ConfigDef, Connector, ConnectorProps, SinkRecord, SinkTask, SinkTaskContext, SourceRecord, SourceTask, SourceTaskContext, TopicPartition } from './api.js';
import { STRING_SCHEMA, javaString } from './data.js';
import { KTS_CONNECT_VERSION } from './version.js';

const SOURCE_CONFIG: ConfigDef = {
  file: { type: 'string', default: null, importance: 'high', doc: 'Source filename. If not specified, the standard input will be used' },
  topic: {
    type: 'string',
    importance: 'high',
    doc: 'The topic to publish data to',
    validate: (v) => (typeof v !== 'string' || v.trim() === '' ? 'String must be non-empty' : v.includes(',') ? "'topic' in FileStreamSourceConnector configuration requires definition of a single topic" : undefined),
  },
  'batch.size': { type: 'int', default: 2000, importance: 'low', doc: 'The maximum number of records the source task can read from the file each time it is polled' },
};

const SINK_CONFIG: ConfigDef = {
  file: { type: 'string', default: null, importance: 'high', doc: 'Destination filename. If not specified, the standard output will be used' },
};

export class FileStreamSourceConnector implements Connector {
  static type = 'source' as const;
  static className = 'org.apache.kafka.connect.file.FileStreamSourceConnector';
  private props: ConnectorProps = {};
  version(): string {
    return KTS_CONNECT_VERSION;
  }
  config(): ConfigDef {
    return SOURCE_CONFIG;
  }
  start(props: ConnectorProps): void {
    this.props = props;
  }
  taskClass(): new () => SourceTask {
    return FileStreamSourceTask;
  }
  taskConfigs(): ConnectorProps[] {
    // One task whatever tasks.max says: a file has one reader. Its config is the connector's (as in Kafka).
    return [{ ...this.props }];
  }
  stop(): void {}
}

export class FileStreamSourceTask implements SourceTask {
  static className = 'org.apache.kafka.connect.file.FileStreamSourceTask';
  private file: string | null = null;
  private topic = '';
  private batchSize = 2000;
  private handle: FileHandle | null = null;
  private position = 0;
  private pending: Buffer = Buffer.alloc(0);
  private stdinLines: Buffer[] = [];

  async start(props: ConnectorProps, context: SourceTaskContext): Promise<void> {
    this.file = props.file || null;
    this.topic = props.topic;
    this.batchSize = Number(props['batch.size'] ?? 2000);
    if (this.file) {
      const offset = context.offset({ filename: this.file });
      const pos = offset?.position;
      if (typeof pos === 'number' && pos >= 0) this.position = pos;
    } else {
      process.stdin.on('data', (chunk: Buffer) => this.stdinLines.push(chunk));
    }
  }

  async poll(): Promise<SourceRecord[] | null> {
    const chunk = this.file ? await this.readFile() : this.readStdin();
    if (chunk) this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const records: SourceRecord[] = [];
    let start = 0;
    while (records.length < this.batchSize) {
      let end = -1;
      for (let i = start; i < this.pending.length; i++) {
        const c = this.pending[i];
        if (c === 0x0a || c === 0x0d) {
          end = i;
          break;
        }
      }
      if (end < 0) break;
      let next = end + 1;
      if (this.pending[end] === 0x0d) {
        // \r\n is one line end; a \r last in the buffer waits to see whether \n follows.
        if (next >= this.pending.length) break;
        if (this.pending[next] === 0x0a) next++;
      }
      const line = this.pending.subarray(start, end).toString('utf8');
      this.position += next - start;
      start = next;
      records.push({
        sourcePartition: this.file ? { filename: this.file } : null,
        sourceOffset: this.file ? { position: this.position } : null,
        topic: this.topic,
        valueSchema: STRING_SCHEMA,
        value: line,
      });
    }
    this.pending = this.pending.subarray(start);
    return records.length > 0 ? records : null;
  }

  /** The bytes after what was read (or kept as a partial line); the file is reopened if it shrank. */
  private async readFile(): Promise<Buffer | null> {
    if (!this.handle) {
      try {
        this.handle = await open(this.file!, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null; // Kafka waits for the file too
        throw err;
      }
    }
    const from = this.position + this.pending.length;
    const buf = Buffer.allocUnsafe(64 * 1024);
    const { bytesRead } = await this.handle.read(buf, 0, buf.length, from);
    return bytesRead > 0 ? buf.subarray(0, bytesRead) : null;
  }

  private readStdin(): Buffer | null {
    if (this.stdinLines.length === 0) return null;
    const all = Buffer.concat(this.stdinLines);
    this.stdinLines = [];
    return all;
  }

  async stop(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = null;
  }
}

export class FileStreamSinkConnector implements Connector {
  static type = 'sink' as const;
  static className = 'org.apache.kafka.connect.file.FileStreamSinkConnector';
  private props: ConnectorProps = {};
  version(): string {
    return KTS_CONNECT_VERSION;
  }
  config(): ConfigDef {
    return SINK_CONFIG;
  }
  start(props: ConnectorProps): void {
    this.props = props;
  }
  taskClass(): new () => SinkTask {
    return FileStreamSinkTask;
  }
  taskConfigs(): ConnectorProps[] {
    return [{ ...this.props }];
  }
  stop(): void {}
}

const LENGTH_KEY = 'kts.file.length=';

export class FileStreamSinkTask implements SinkTask {
  static className = 'org.apache.kafka.connect.file.FileStreamSinkTask';
  private file: string | null = null;
  private handle: FileHandle | null = null;
  private length = 0;
  private context!: SinkTaskContext;
  private opened = false;

  async start(props: ConnectorProps, context: SinkTaskContext): Promise<void> {
    this.file = props.file || null;
    this.context = context;
    if (this.file) {
      this.handle = await open(this.file, 'a');
      this.length = (await stat(this.file)).size;
    }
  }

  /** Cuts the file back to the length committed with these partitions' offsets (see the top). */
  async open(partitions: TopicPartition[]): Promise<void> {
    // Only the first assignment: what a later one brings was committed with an older length.
    if (!this.file || this.opened) return;
    this.opened = true;
    let committedLength = -1;
    for (const tp of partitions) {
      const meta = this.context.committed(tp)?.metadata;
      if (meta?.startsWith(LENGTH_KEY)) committedLength = Math.max(committedLength, Number(meta.slice(LENGTH_KEY.length)));
    }
    if (committedLength >= 0 && committedLength < this.length) {
      await truncate(this.file, committedLength);
      this.length = committedLength;
    }
  }

  async put(records: SinkRecord[]): Promise<void> {
    if (records.length === 0) return;
    const text = Buffer.from(records.map((r) => `${javaString(r.value, r.valueSchema)}\n`).join(''), 'utf8');
    if (!this.handle) {
      process.stdout.write(text);
      return;
    }
    let off = 0;
    while (off < text.length) off += (await this.handle.write(text, off, text.length - off)).bytesWritten;
    this.length += text.length;
  }

  async flush(): Promise<void> {
    await this.handle?.sync();
  }

  commitMetadata(): string | null {
    return this.file ? `${LENGTH_KEY}${this.length}` : null;
  }

  async stop(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = null;
  }
}
