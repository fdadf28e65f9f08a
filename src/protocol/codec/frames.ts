// Kafka frames: size prefix, request/response headers, bodies. Header rules (Kafka's
// ApiMessageType.requestHeaderVersion / responseHeaderVersion):
// - request header v2 (v1 + tagged fields) when the request version is flexible, else v1;
//   ControlledShutdown v0 alone uses v0 (no client id). client_id keeps its int16 length in v2.
// - response header v1 (+ tagged fields) when the response version is flexible, else v0;
//   ApiVersions responses always use v0 so a client can read them before it knows our versions.
//
// The API schemas are registered, not imported: importing ../index.js (or all-apis.ts) registers
// every one of them (the broker, tests); a client registers only the APIs it sends, each loaded on
// first use by ensureApiSchemas (a CLI's start-up then skips ~160 KB of schemas it never needs).
import { ProtocolError } from '../errors.js';
import { ConsumerProtocolAssignment, ConsumerProtocolSubscription, type ConsumerProtocolAssignmentData, type ConsumerProtocolSubscriptionData } from '../generated/consumer-protocol.js';
import type { ApiKeyNumber, RequestBody, RequestData, ResponseBody, ResponseData } from '../generated/api-types.js';
import { API_LOADERS } from '../generated/lazy.js';
import { codecFor, type Codec } from './compile.js';
import { Reader } from './reader.js';
import { inVersions, type ApiSchemas, type MessageSchema } from './schema.js';
import { Writer } from './writer.js';

const API_VERSIONS_KEY = 18;
const CONTROLLED_SHUTDOWN_KEY = 7;

const byKey: (ApiSchemas | undefined)[] = [];
const loading = new Map<number, Promise<void>>();

/** Makes these APIs' frames encodable and decodable. */
export function registerApiSchemas(apis: readonly ApiSchemas[]): void {
  for (const api of apis) byKey[api.apiKey] ??= api;
}

/**
 * Loads and registers one API's schemas: undefined when they already are (no await on a hot
 * path), else a promise that settles once they are. An unknown key resolves at once (the encoder
 * then refuses it as before).
 */
export function ensureApiSchemas(apiKey: number): Promise<void> | undefined {
  if (byKey[apiKey]) return undefined;
  const load = API_LOADERS.get(apiKey);
  if (!load) return Promise.resolve();
  let pending = loading.get(apiKey);
  if (!pending) {
    pending = load().then((api) => registerApiSchemas([api]), (err) => {
      loading.delete(apiKey);
      throw err;
    });
    loading.set(apiKey, pending);
  }
  return pending;
}
const requestCodecs: Codec[][] = [];
const responseCodecs: Codec[][] = [];

/** A decoded request of API `K` (unknown when K is not a literal key). */
export type DecodedRequest<K extends number> = K extends ApiKeyNumber ? RequestData<K> : unknown;
/** A decoded response of API `K` (unknown when K is not a literal key). */
export type DecodedResponse<K extends number> = K extends ApiKeyNumber ? ResponseData<K> : unknown;
/** What encodeRequest takes for API `K`: its generated request type, any field left out (any object when K is not a literal key). */
export type EncodableRequest<K extends number> = K extends ApiKeyNumber ? RequestBody<K> : object;
/** What encodeResponse takes for API `K`: its generated response type, any field left out (any object when K is not a literal key). */
export type EncodableResponse<K extends number> = K extends ApiKeyNumber ? ResponseBody<K> : object;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export function apiName(apiKey: number): string | undefined {
  return byKey[apiKey]?.name;
}

/** Request and response schemas of an API key, if Kafka's schemas define it. */
export function apiSchemas(apiKey: number): ApiSchemas | undefined {
  return byKey[apiKey];
}

/** Versions the schema defines, and the first flexible version (Infinity if none). */
export function schemaVersions(apiKey: number): { min: number; max: number; flexibleMin: number } | undefined {
  const api = byKey[apiKey];
  if (!api) return undefined;
  const { validVersions, flexibleVersions } = api.request;
  return { min: validVersions[0], max: validVersions[1], flexibleMin: flexibleVersions ? flexibleVersions[0] : Infinity };
}

/** True if `apiVersion` of `apiKey` uses the flexible encodings (compact forms, tagged fields). */
export function isFlexible(apiKey: number, apiVersion: number): boolean {
  const api = byKey[apiKey];
  return api !== undefined && inVersions(api.request.flexibleVersions, apiVersion);
}

function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === CONTROLLED_SHUTDOWN_KEY && apiVersion === 0) return 0;
  return isFlexible(apiKey, apiVersion) ? 2 : 1;
}

function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === API_VERSIONS_KEY) return 0;
  const api = byKey[apiKey];
  return api !== undefined && inVersions(api.response.flexibleVersions, apiVersion) ? 1 : 0;
}

function codecOf(cache: Codec[][], apiKey: number, apiVersion: number, kind: 'request' | 'response'): Codec {
  const cached = cache[apiKey]?.[apiVersion];
  if (cached) return cached;
  const api = byKey[apiKey];
  if (!api) throw new ProtocolError(`unknown API key ${apiKey}`);
  const schema = api[kind];
  if (!Number.isInteger(apiVersion) || !inVersions(schema.validVersions, apiVersion)) {
    throw new ProtocolError(`${api.name} has no version ${apiVersion} (schema defines ${schema.validVersions[0]}-${schema.validVersions[1]})`);
  }
  const codec = codecFor(schema, apiVersion);
  (cache[apiKey] ??= [])[apiVersion] = codec;
  return codec;
}

function decodeWith(codec: Codec, r: Reader, what: string): unknown {
  try {
    return codec.decode(r);
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    // The reader throws only ProtocolError; anything else is a codec bug, but it is still bad input.
    throw new ProtocolError(`cannot decode ${what}: ${(err as Error).message}`);
  }
}

/**
 * Reads the request header. `frame` = the bytes after the 4-byte size prefix. Header v2 if
 * (key, version) is known and flexible, else v1. Throws ProtocolError if fewer than 8 bytes.
 */
export function decodeRequestHeader(frame: Buffer): { header: RequestHeader; bodyOffset: number } {
  if (frame.length < 8) throw new ProtocolError(`request frame of ${frame.length} bytes is shorter than a header`);
  const r = new Reader(frame, 0, frame.length);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const hv = requestHeaderVersion(apiKey, apiVersion);
  const clientId = hv >= 1 ? r.string(true) : null;
  if (hv >= 2) r.skipTaggedFields();
  return { header: { apiKey, apiVersion, correlationId, clientId }, bodyOffset: r.pos };
}

/** Decodes a request body; throws ProtocolError on malformed/truncated input or an unknown key/version. */
export function decodeRequestBody<K extends number>(apiKey: K, apiVersion: number, frame: Buffer, bodyOffset: number): DecodedRequest<K> {
  const codec = codecOf(requestCodecs, apiKey, apiVersion, 'request');
  if (!(bodyOffset >= 0 && bodyOffset <= frame.length)) throw new ProtocolError(`body offset ${bodyOffset} outside the frame`);
  return decodeWith(codec, new Reader(frame, bodyOffset, frame.length), `${apiName(apiKey)} v${apiVersion} request`) as DecodedRequest<K>;
}

function finishFrame(w: Writer): Buffer[] {
  const size = w.length - 4;
  const chunks = w.finish();
  chunks[0].writeInt32BE(size, 0);
  return chunks;
}

/**
 * Encodes a full response frame: 4-byte size, response header, body. Returns chunks so that large
 * `records` Buffers are not copied (write them in order, e.g. with socket.cork/writev).
 */
export function encodeResponse<K extends number>(apiKey: K, apiVersion: number, correlationId: number, body: EncodableResponse<K>): Buffer[] {
  const codec = codecOf(responseCodecs, apiKey, apiVersion, 'response');
  const w = new Writer();
  try {
    w.int32(0);
    w.int32(correlationId);
    if (responseHeaderVersion(apiKey, apiVersion) === 1) w.uvarint(0);
    codec.encode(w, body);
    return finishFrame(w);
  } finally {
    w.release();
  }
}

/** For clients and tests: a full request frame (size prefix, header v1/v2, body). */
export function encodeRequest<K extends number>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: EncodableRequest<K>,
): Buffer[] {
  const codec = codecOf(requestCodecs, apiKey, apiVersion, 'request');
  const w = new Writer();
  try {
    w.int32(0);
    w.int16(apiKey);
    w.int16(apiVersion);
    w.int32(correlationId);
    const hv = requestHeaderVersion(apiKey, apiVersion);
    if (hv >= 1) w.string(clientId);
    if (hv >= 2) w.uvarint(0);
    codec.encode(w, body);
    return finishFrame(w);
  } finally {
    w.release();
  }
}

/** For clients and tests: decodes a response frame (without the size prefix). */
export function decodeResponse<K extends number>(apiKey: K, apiVersion: number, frame: Buffer): { correlationId: number; body: DecodedResponse<K> } {
  const codec = codecOf(responseCodecs, apiKey, apiVersion, 'response');
  const r = new Reader(frame, 0, frame.length);
  const correlationId = r.int32();
  if (responseHeaderVersion(apiKey, apiVersion) === 1) r.skipTaggedFields();
  return { correlationId, body: decodeWith(codec, r, `${apiName(apiKey)} v${apiVersion} response`) as DecodedResponse<K> };
}

/** Encodes one message body (no header, no size) with any schema; returns one Buffer. */
export function encodeMessage(schema: MessageSchema, version: number, value: object): Buffer {
  const codec = codecFor(schema, version);
  const w = new Writer();
  try {
    codec.encode(w, value);
    return w.finishBuffer();
  } finally {
    w.release();
  }
}

/** Decodes one message body with any schema from `buf[offset..]`. Trailing bytes are ignored. */
export function decodeMessage(schema: MessageSchema, version: number, buf: Buffer, offset = 0): unknown {
  let codec: Codec;
  try {
    codec = codecFor(schema, version);
  } catch (err) {
    throw new ProtocolError((err as Error).message);
  }
  return decodeWith(codec, new Reader(buf, offset, buf.length), `${schema.name} v${version}`);
}

// Consumer-protocol structures embedded as bytes in JoinGroup (subscription) and SyncGroup
// (assignment): an int16 version, then the body. Like Kafka, a newer version than we know is read
// with the newest layout we have (new versions only append fields).
function decodeVersioned<T>(schema: MessageSchema, buf: Buffer): T & { version: number } {
  const r = new Reader(buf, 0, buf.length);
  const version = r.int16();
  if (version < 0) throw new ProtocolError(`${schema.name}: negative version ${version}`);
  const body = decodeWith(codecFor(schema, Math.min(version, schema.validVersions[1])), r, schema.name) as T & { version: number };
  body.version = version;
  return body;
}

function encodeVersioned(schema: MessageSchema, version: number, value: object): Buffer {
  const codec = codecFor(schema, version);
  const w = new Writer();
  try {
    w.int16(version);
    codec.encode(w, value);
    return w.finishBuffer();
  } finally {
    w.release();
  }
}

/** Subscription metadata (JoinGroup protocol metadata). The result carries `version`. */
export function decodeConsumerSubscription(buf: Buffer): ConsumerProtocolSubscriptionData & { version: number } {
  return decodeVersioned(ConsumerProtocolSubscription, buf);
}

export function encodeConsumerSubscription(version: number, value: object): Buffer {
  return encodeVersioned(ConsumerProtocolSubscription, version, value);
}

/** Member assignment (SyncGroup assignment bytes). The result carries `version`. */
export function decodeConsumerAssignment(buf: Buffer): ConsumerProtocolAssignmentData & { version: number } {
  return decodeVersioned(ConsumerProtocolAssignment, buf);
}

export function encodeConsumerAssignment(version: number, value: object): Buffer {
  return encodeVersioned(ConsumerProtocolAssignment, version, value);
}
