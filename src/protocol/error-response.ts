// The answer a broker gives when a whole request fails with one error (Kafka's
// AbstractRequest.getErrorResponse): a well-formed response of the same API and version whose
// error codes say so where that version has them — the top-level errorCode, and every topic,
// partition, group or coordinator key the request named, mirrored from the request. The fault
// injection of the test kit (src/broker/faults.ts) answers with these.
//
// Built from the generated schemas, so every API has one; the fields that carry no error take
// Kafka's "unknown" values (-1 offsets, epochs, node ids and generations; '' and empty lists),
// the rest the schema's defaults.
import { apiSchemas } from './codec/frames.js';
import { inVersions, type FieldSchema, type StructSchema } from './codec/schema.js';
import { ApiKey } from './generated/api-keys.js';
// apiSchemas() below must know every API.
import './codec/all-apis.js';

/** A response array and the request arrays it answers entry by entry. */
const MIRRORED_FROM: Record<string, readonly string[]> = {
  responses: ['topicData', 'topics', 'topicNames'],
  partitionResponses: ['partitionData'],
  partitions: ['partitions', 'partitionIndexes'],
  topics: ['topics'],
  coordinators: ['coordinatorKeys'],
  groups: ['groups'],
};

/** A response field naming what an entry answers, and the request fields it is copied from. */
const NAMED_FROM: Record<string, readonly string[]> = {
  name: ['name', 'topic'],
  topic: ['topic', 'name'],
  topicId: ['topicId'],
  partitionIndex: ['partitionIndex', 'index', 'partition'],
  index: ['index', 'partitionIndex', 'partition'],
  partition: ['partition', 'partitionIndex', 'index'],
  groupId: ['groupId'],
  key: ['key'],
  transactionalId: ['transactionalId'],
};

/** Fields for which Kafka answers "unknown" (-1) rather than 0 in an error response. */
const UNKNOWN_NUMBER = /offset|watermark|timestamp|^nodeId$|^port$|generationId|^leaderId$|epoch$|^producerId$/i;
/** Request fields an error answer does not echo although the response has a field of that name. */
const NOT_ECHOED = new Set(['memberId', 'groupInstanceId', 'throttleTimeMs', 'errorMessage']);
/** The names an entry of a plain list (a topic name, a partition index, a group id) goes to, best first. */
const KEY_NAMES = ['name', 'key', 'groupId', 'transactionalId', 'topic', 'resourceName', 'partitionIndex', 'partition', 'index', 'partitionId'];

type Source = Record<string, unknown> | string | number | undefined;

function isStruct(t: FieldSchema['type']): t is StructSchema {
  return typeof t === 'object';
}

const isErrorCode = (f: FieldSchema) => f.type === 'int16' && /(^e|E)rrorCode$/.test(f.name);

/** Whether a struct (or one nested in it) has an error code: only such lists are mirrored. */
function carriesErrors(t: StructSchema): boolean {
  return t.fields.some((f) => isErrorCode(f) || (isStruct(f.type) && carriesErrors(f.type)));
}

function build(fields: readonly FieldSchema[], version: number, errorCode: number, source: Source): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const src = typeof source === 'object' && source !== null ? source : undefined;
  const present = fields.filter((f) => inVersions(f.versions, version));
  // A list the response answers entry by entry: by name (MIRRORED_FROM, or the same name), else the
  // request's only list when the response has only one list that carries errors.
  const lists = present.filter((f) => f.array && isStruct(f.type) && carriesErrors(f.type));
  const sourceLists = src ? Object.entries(src).filter(([, v]) => Array.isArray(v)) : [];
  const mirrorOf = (f: FieldSchema): unknown[] | undefined => {
    for (const n of [...(MIRRORED_FROM[f.name] ?? []), f.name]) if (Array.isArray(src?.[n])) return src![n] as unknown[];
    if (lists.length === 1 && lists[0] === f && sourceLists.length === 1) return sourceLists[0][1] as unknown[];
    return undefined;
  };
  // An entry that is a plain value names the entry: it goes to the struct's key field.
  let keyField: FieldSchema | undefined;
  if (!src && source !== undefined) {
    const wanted = typeof source === 'string' ? 'string' : 'int32';
    keyField = KEY_NAMES.map((n) => present.find((f) => f.name === n && f.type === wanted && !f.array)).find(Boolean) ??
      present.find((f) => f.type === wanted && !f.array && !NOT_ECHOED.has(f.name));
  }
  for (const f of present) {
    if (isErrorCode(f)) {
      out[f.name] = errorCode;
      continue;
    }
    if (f.array) {
      if (!isStruct(f.type)) continue;
      const entryFields = f.type.fields;
      out[f.name] = (mirrorOf(f) ?? []).map((entry) => build(entryFields, version, errorCode, entry as Source));
      continue;
    }
    if (isStruct(f.type)) {
      out[f.name] = build(f.type.fields, version, errorCode, src?.[f.name] as Source);
      continue;
    }
    if (f === keyField) {
      out[f.name] = source;
      continue;
    }
    const names = NAMED_FROM[f.name];
    const copied = names?.map((n) => src?.[n]).find((v) => v !== undefined);
    if (copied !== undefined) {
      out[f.name] = copied;
      continue;
    }
    if ((f.type === 'int32' || f.type === 'int64') && f.default === undefined && UNKNOWN_NUMBER.test(f.name)) {
      out[f.name] = -1;
      continue;
    }
    // Fields that say what an entry is about (resourceType, resourceName, ...) are echoed.
    const same = src?.[f.name];
    if (same !== undefined && !NOT_ECHOED.has(f.name) && typeof same === (f.type === 'string' ? 'string' : f.type === 'bool' ? 'boolean' : 'number') && f.type !== 'int64') {
      out[f.name] = same;
    }
  }
  return out;
}

/**
 * The response body answering `request` (apiKey at apiVersion, as decoded) with `errorCode`.
 * Encoded by encodeResponse like any handler's answer.
 */
export function errorResponse(apiKey: number, apiVersion: number, request: unknown, errorCode: number): Record<string, unknown> {
  const schemas = apiSchemas(apiKey);
  if (!schemas) throw new Error(`no schema for API key ${apiKey}`);
  const body = build(schemas.response.fields, apiVersion, errorCode, request as Source);
  // Fetch v13+ carries a request-wide error at the top only, without partitions (as Kafka answers).
  if (apiKey === ApiKey.Fetch && apiVersion >= 13) body.responses = [];
  return body;
}

/** The first errorCode inside the response's lists, depth first (the first partition's, the first topic's). */
function firstNestedCode(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  for (const child of Object.values(value)) {
    if (!Array.isArray(child)) continue;
    for (const entry of child) {
      if (typeof entry !== 'object' || entry === null) break;
      const nested = firstNestedCode(entry);
      if (nested !== undefined) return nested;
      const own = (entry as { errorCode?: unknown }).errorCode;
      if (typeof own === 'number') return own;
    }
  }
  return undefined;
}

/** The error a response reports: its top-level errorCode when not 0, else the first partition's (0 if none). */
export function responseErrorCode(response: unknown): number {
  if (typeof response !== 'object' || response === null) return 0;
  const top = (response as { errorCode?: unknown }).errorCode;
  if (typeof top === 'number' && top !== 0) return top;
  return firstNestedCode(response) ?? 0;
}
