// A partition log's settings, in Kafka's terms (topic config name in each comment). The broker builds
// one per topic from its defaults and the topic's overrides (BrokerConfig.logConfig).

export interface LogConfig {
  /** segment.bytes: roll to a new segment before the active one would exceed this. */
  segmentBytes: number;
  /** segment.ms: roll when the active segment's first batch is older than this. */
  segmentMs: number;
  /** retention.ms: delete segments whose newest record is older than this; -1 = keep forever. */
  retentionMs: number;
  /** retention.bytes: delete the oldest segments while the log is larger than this; -1 = no limit. */
  retentionBytes: number;
  /** index.interval.bytes: one offset-index (and time-index) entry per this many log bytes. */
  indexIntervalBytes: number;
  /** segment.index.bytes: an index this large is full and forces a roll. */
  segmentIndexBytes: number;
  /** message.timestamp.type. */
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  /** max.message.bytes: the largest batch accepted (whole batch, header included). */
  maxMessageBytes: number;
  /** flush.messages: fdatasync after this many records; 1 = before every append resolves. */
  flushIntervalMessages: number;
  /** flush.ms: fdatasync when the oldest unflushed append is this old (checked by runMaintenance). */
  flushIntervalMs: number;
  /** file.delete.delay.ms: how long a deleted segment's files stay (renamed *.deleted) before unlink. */
  fileDeleteDelayMs: number;
  /** cleanup.policy contains `compact`: the log cleaner keeps the latest record of each key (cleaner/). */
  compact: boolean;
  /** cleanup.policy contains `delete`: retention.ms and retention.bytes apply (a compact-only log keeps every segment). */
  delete: boolean;
  /** delete.retention.ms: how long a tombstone (and a spent transaction marker) outlives its first cleaning. */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms: a segment holding a record younger than this is not cleaned yet. */
  minCompactionLagMs: number;
  /** max.compaction.lag.ms: a dirty segment older than this is cleaned whatever the dirty ratio. */
  maxCompactionLagMs: number;
  /** min.cleanable.dirty.ratio: dirty bytes / (clean + dirty) above which the log is cleaned. */
  minCleanableRatio: number;
}

export const defaultLogConfig: LogConfig = Object.freeze({
  segmentBytes: 1073741824,
  segmentMs: 604800000,
  retentionMs: 604800000,
  retentionBytes: -1,
  indexIntervalBytes: 4096,
  segmentIndexBytes: 10485760,
  messageTimestampType: 'CreateTime',
  maxMessageBytes: 1048588,
  flushIntervalMessages: Number.MAX_SAFE_INTEGER,
  flushIntervalMs: Number.MAX_SAFE_INTEGER,
  fileDeleteDelayMs: 60000,
  compact: false,
  delete: true,
  deleteRetentionMs: 86400000,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  minCleanableRatio: 0.5,
}) as LogConfig;
