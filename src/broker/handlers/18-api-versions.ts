// ApiVersions v0-v4: the versions of every registered handler. The response header is always v0
// (the codec knows), and a request above v4 is answered by the dispatcher in the v0 layout.
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 18,
  minVersion: 0,
  maxVersion: 4,
  handle(_request, ctx) {
    return { errorCode: 0, apiKeys: ctx.registry.advertised(), throttleTimeMs: 0 };
  },
});
