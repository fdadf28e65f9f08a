// AlterConfigs v0-v2: replaces a resource's whole set of overrides. Broker loggers (type 8) are refused, as in Kafka.
import { defineHandler } from '../api-handler.js';
import { alterResources } from './alter-resources.js';

export default defineHandler({
  apiKey: 33,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    return { responses: await alterResources(ctx, request, false) };
  },
});
