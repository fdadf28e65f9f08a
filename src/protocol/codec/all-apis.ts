// Registers every API's schemas with the frame codec (codec/frames.ts): what a broker, which
// answers them all, needs at start. A client loads the few it sends instead (ensureApiSchemas).
import { API_SCHEMAS } from '../generated/index.js';
import { registerApiSchemas } from './frames.js';

registerApiSchemas(API_SCHEMAS);
