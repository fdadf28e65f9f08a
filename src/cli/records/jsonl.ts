// The kts record interchange: `console-consumer --output jsonl` writes one JSON object per record,
// `console-producer --input jsonl` reads them back, so
//   kts console-consumer --topic a --from-beginning --until end --output jsonl > a.jsonl
//   kts console-producer --topic b --input jsonl < a.jsonl
// makes b a copy of a (same partitions, order, keys, values, headers, CreateTime timestamps).
//
// One line:
//   {"topic":"orders","partition":0,"offset":42,"timestamp":1718000000000,"timestampType":"CreateTime",
//    "key":"user-42","value":{"base64":"AAEC"},"headers":[{"key":"trace","value":"abc"}]}
// key, value and each header value are: null; a JSON string when the bytes are valid UTF-8; or
// {"base64": "..."} for any other bytes. Header keys are strings; headers keep their order and
// duplicates. On input every field but "value" is optional: "partition" picks the partition (else
// the default partitioner), "timestamp" sets CreateTime (else now), "topic"/"offset"/
// "timestampType" are ignored; "headers" may also be an object {"k": "v"}; a line may be blank.
import { isUtf8 } from 'node:buffer';
import { CliError } from '../errors.js';
import type { ProducerInput } from './line-reader.js';
import type { ConsumedRecord, RecordHeader } from './message-formatter.js';

export type JsonPayload = string | { base64: string } | null;

export interface JsonRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: string;
  key: JsonPayload;
  value: JsonPayload;
  headers: { key: string; value: JsonPayload }[];
}

export function encodePayload(bytes: Buffer | null): JsonPayload {
  if (bytes === null) return null;
  return isUtf8(bytes) ? bytes.toString('utf8') : { base64: bytes.toString('base64') };
}

export function toJsonRecord(r: ConsumedRecord): JsonRecord {
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: r.timestampType,
    key: encodePayload(r.key),
    value: encodePayload(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: encodePayload(h.value) })),
  };
}

function decodePayload(v: unknown, what: string, lineNumber: number): Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (typeof v === 'object' && typeof (v as { base64?: unknown }).base64 === 'string') {
    return Buffer.from((v as { base64: string }).base64, 'base64');
  }
  throw new CliError(`Line ${lineNumber}: ${what} must be null, a string or {"base64": "..."}`);
}

/** Parses one JSONL line; null for a blank line. */
export function parseJsonRecord(line: string, lineNumber: number): ProducerInput | null {
  if (line.trim() === '') return null;
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (err) {
    throw new CliError(`Line ${lineNumber} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new CliError(`Line ${lineNumber}: expected a JSON object`);
  }
  const o = obj as Record<string, unknown>;
  const headers: RecordHeader[] = [];
  if (Array.isArray(o.headers)) {
    for (const h of o.headers as unknown[]) {
      const hk = (h as { key?: unknown })?.key;
      if (typeof hk !== 'string') throw new CliError(`Line ${lineNumber}: every header needs a string "key"`);
      headers.push({ key: hk, value: decodePayload((h as { value?: unknown }).value, `header ${hk}`, lineNumber) });
    }
  } else if (o.headers && typeof o.headers === 'object') {
    for (const [hk, hv] of Object.entries(o.headers)) headers.push({ key: hk, value: decodePayload(hv, `header ${hk}`, lineNumber) });
  } else if (o.headers !== undefined && o.headers !== null) {
    throw new CliError(`Line ${lineNumber}: "headers" must be an array of {"key", "value"} or an object`);
  }
  const input: ProducerInput = {
    key: decodePayload(o.key, '"key"', lineNumber),
    value: decodePayload(o.value, '"value"', lineNumber),
    headers,
  };
  if (o.partition !== undefined && o.partition !== null) {
    if (!Number.isInteger(o.partition) || (o.partition as number) < 0) {
      throw new CliError(`Line ${lineNumber}: "partition" must be a non-negative integer`);
    }
    input.partition = o.partition as number;
  }
  if (o.timestamp !== undefined && o.timestamp !== null && o.timestamp !== -1) {
    if (!Number.isInteger(o.timestamp)) throw new CliError(`Line ${lineNumber}: "timestamp" must be an integer (ms since the epoch)`);
    input.timestamp = o.timestamp as number;
  }
  return input;
}
