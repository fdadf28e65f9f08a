// Record formats as bytes: magic-2 record batches, legacy message sets (magic 0/1), conversion
// between them for old clients, and the compression codec registry. See RECORDS.md for layouts.
export * from './crc.js';
export * from './batch-header.js';
export * from './varint.js';
export * from './compression.js';
export type { Record, RecordHeader, RecordInput, HeaderValueInput } from './record.js';
export { buildRecordBatch, iterateBatches, decodeRecordBatch } from './record-batch.js';
export type { RecordBatchOptions, DecodeOptions } from './record-batch.js';
export { decodeRecords } from './decode-records.js';
export {
  buildMessageSet,
  readLegacyEntry,
  LEGACY_LOG_OVERHEAD,
  LEGACY_RECORD_OVERHEAD_V0,
  LEGACY_RECORD_OVERHEAD_V1,
} from './legacy-message-set.js';
export type { LegacyEntry } from './legacy-message-set.js';
export { upConversion, upConvertMessageSet, downConvertBatches } from './conversion.js';
export type { UpConversionOptions, UpConversionStep } from './conversion.js';
export { buildControlBatch, parseControlRecord, ControlType } from './control-batch.js';
export type { ControlBatchOptions, ControlTypeName } from './control-batch.js';
