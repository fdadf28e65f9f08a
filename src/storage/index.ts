// The storage engine: Kafka's on-disk log layout (one directory per partition, segments of whole
// magic-2 batches with sparse offset and time indexes), recovery, retention and checkpoints.
export { type LogConfig, defaultLogConfig } from './config.js';
export {
  PartitionLog,
  type AppendResult,
  type ReadResult,
  type StorageLogger,
} from './partition-log.js';
export { LogManager, type LogManagerOptions, CLEAN_SHUTDOWN_MARKER } from './log-manager.js';
export { type FileSystem, type FileHandle, type DirEntry, nodeFileSystem } from './file-system.js';
export { RECOVERY_POINT_CHECKPOINT, LOG_START_OFFSET_CHECKPOINT } from './checkpoint.js';
export { isLegalTopicName } from './names.js';
