// The connector interface a TypeScript (or JavaScript) plugin implements: Kafka Connect's
// SourceConnector/SourceTask and SinkConnector/SinkTask with the same method names, async where
// Kafka blocks. A plugin is an ES module in a plugin.path directory that exports a connector class
// with `static type = 'source' | 'sink'` (src/connect/plugins.ts finds it). Plugins need not import
// anything from kts: these are structural types, for `implements` in TypeScript.
import type { Schema } from './data.js';

/** One config key, as Kafka's ConfigDef declares it. */
export interface ConfigKeyDef {
  type: 'string' | 'int' | 'long' | 'double' | 'boolean' | 'list' | 'password' | 'class';
  /** No default means the key is required. */
  default?: string | number | boolean | string[] | null;
  importance?: 'high' | 'medium' | 'low';
  doc?: string;
  /** Allowed values (Kafka's ValidString.in). */
  in?: string[];
  /** Inclusive bounds for numbers (Kafka's Range.between). */
  min?: number;
  max?: number;
  /** Further checks: return an error message, or undefined when the value is good. */
  validate?(value: unknown): string | undefined;
}

export type ConfigDef = Record<string, ConfigKeyDef>;

export type ConnectorProps = Record<string, string>;

/** The fields source and sink records share: what a single message transform sees and returns. */
export interface ConnectRecord {
  topic: string;
  kafkaPartition?: number | null;
  keySchema?: Schema | null;
  key?: unknown;
  valueSchema?: Schema | null;
  value: unknown;
  timestamp?: number | null;
  headers?: { key: string; value: Buffer | string | null }[];
}

export interface SourceRecord extends ConnectRecord {
  /** Where the record came from (e.g. { filename }), and how far (e.g. { position }): both JSON. */
  sourcePartition: Record<string, unknown> | null;
  sourceOffset: Record<string, unknown> | null;
}

export interface SinkRecord {
  topic: string;
  kafkaPartition: number;
  kafkaOffset: number;
  keySchema: Schema | null;
  key: unknown;
  valueSchema: Schema | null;
  value: unknown;
  timestamp: number | null;
  timestampType: 'CreateTime' | 'LogAppendTime' | 'NoTimestampType';
  headers: { key: string; value: Buffer | null }[];
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface ConnectorContext {
  /** Asks the worker to call taskConfigs() again and restart the tasks. */
  requestTaskReconfiguration(): void;
  raiseError(err: Error): void;
}

export interface Connector {
  version(): string;
  /** The config keys with their types, defaults and checks (Kafka's Connector#config). */
  config(): ConfigDef;
  start(props: ConnectorProps, context: ConnectorContext): void | Promise<void>;
  /** The task class to instantiate for each task config. */
  taskClass(): new () => SourceTask | SinkTask;
  taskConfigs(maxTasks: number): ConnectorProps[] | Promise<ConnectorProps[]>;
  stop(): void | Promise<void>;
}

export interface SourceTaskContext {
  /** The last committed offset of a source partition (Kafka's OffsetStorageReader#offset). */
  offset(partition: Record<string, unknown>): Record<string, unknown> | null;
}

export interface SourceTask {
  start(props: ConnectorProps, context: SourceTaskContext): void | Promise<void>;
  /** The next records, or null/[] when there are none yet (the worker calls again shortly). */
  poll(): Promise<SourceRecord[] | null>;
  /** Called after the offsets of what poll() returned are committed. */
  commit?(): void | Promise<void>;
  stop(): void | Promise<void>;
}

export interface SinkTaskContext {
  /** The group's committed offset and metadata for a partition, as found when it was assigned. */
  committed(tp: TopicPartition): { offset: number; metadata: string | null } | undefined;
  /** Start reading a partition from this offset instead (Kafka's SinkTaskContext#offset). */
  offset(tp: TopicPartition, offset: number): void;
}

export interface SinkTask {
  start(props: ConnectorProps, context: SinkTaskContext): void | Promise<void>;
  /** Partitions assigned to this task (before any put for them). */
  open?(partitions: TopicPartition[]): void | Promise<void>;
  put(records: SinkRecord[]): void | Promise<void>;
  /** Make everything put so far durable; the worker commits the consumed offsets afterwards. */
  flush?(offsets: Map<string, number>): void | Promise<void>;
  /**
   * kts's addition: a string committed with the offsets (OffsetCommit's metadata), read back with
   * context.committed(): lets a sink make its output match the committed offsets exactly.
   */
  commitMetadata?(): string | null;
  close?(partitions: TopicPartition[]): void | Promise<void>;
  stop(): void | Promise<void>;
}

export type ConnectorType = 'source' | 'sink';

export interface ConnectorClass {
  new (): Connector;
  /** 'source' or 'sink'. */
  type: ConnectorType;
  /** The name connector.class matches (default: the class's own name). */
  className?: string;
}
