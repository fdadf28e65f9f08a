// The Kafka wire codec: frames, headers and every message of Kafka's schemas (generated data under
// generated/, compiled to specialised readers/writers on first use by codec/compile.ts).
// Every API's schemas: whoever imports this module can encode and decode any of them.
import './codec/all-apis.js';
export { ErrorCode, KafkaError, ProtocolError, errorName } from './errors.js';
export type { ErrorCodeName } from './errors.js';
export { ApiKey, API_SCHEMAS } from './generated/index.js';
export type { ApiName } from './generated/index.js';
export {
  apiName,
  apiSchemas,
  decodeConsumerAssignment,
  decodeConsumerSubscription,
  decodeMessage,
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponse,
  encodeConsumerAssignment,
  encodeConsumerSubscription,
  encodeMessage,
  encodeRequest,
  encodeResponse,
  ensureApiSchemas,
  isFlexible,
  registerApiSchemas,
  schemaVersions,
} from './codec/frames.js';
export type { RequestHeader } from './codec/frames.js';
export { ZERO_UUID } from './codec/reader.js';
export type { ApiSchemas, FieldSchema, MessageSchema, StructSchema, Versions } from './codec/schema.js';
