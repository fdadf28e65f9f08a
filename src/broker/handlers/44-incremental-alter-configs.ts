// IncrementalAlterConfigs v0-v1: SET / DELETE / APPEND / SUBTRACT per key; SET / DELETE of broker logger levels.
import { defineHandler } from '../api-handler.js';
import { alterResources } from './alter-resources.js';

export default defineHandler({
  apiKey: 44,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    return { responses: await alterResources(ctx, request, true) };
  },
});
