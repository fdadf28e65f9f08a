// Control batches: transaction markers (COMMIT / ABORT) written by the transaction coordinator.
import { Attr } from './batch-header.js';
import { encodeBatch } from './record-batch.js';
import type { Record } from './record.js';

export const ControlType = { ABORT: 0, COMMIT: 1 } as const;
export type ControlTypeName = keyof typeof ControlType;

export interface ControlBatchOptions {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  timestamp?: number;
}

/** One transactional control batch holding one end-transaction marker. */
export function buildControlBatch(type: ControlTypeName, opts: ControlBatchOptions): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0); // version
  key.writeInt16BE(ControlType[type], 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0); // version
  value.writeInt32BE(opts.coordinatorEpoch, 2);
  const timestamp = opts.timestamp ?? Date.now();
  return encodeBatch(
    [{ timestamp, key, keyLength: 4, value, valueLength: 6, headers: [] }],
    {
      baseOffset: opts.baseOffset,
      partitionLeaderEpoch: opts.partitionLeaderEpoch,
      producerId: opts.producerId,
      producerEpoch: opts.producerEpoch,
      baseSequence: -1,
      transactional: true,
    },
    Attr.control,
  );
}

/** Reads a control record's key/value; type 0 ABORT, 1 COMMIT (2+ are KRaft-internal). */
export function parseControlRecord(record: Record): { type: number; coordinatorEpoch: number | null } {
  if (!record.key || record.key.length < 4) return { type: -1, coordinatorEpoch: null };
  const type = record.key.readInt16BE(2);
  const coordinatorEpoch = record.value && record.value.length >= 6 ? record.value.readInt32BE(2) : null;
  return { type, coordinatorEpoch };
}
