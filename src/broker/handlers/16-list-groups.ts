// ListGroups v0-v5. v4+ state filter and state in the answer; v5+ type filter and type
// (every group here is "classic").
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 16,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const v = ctx.apiVersion;
    const groups = ctx.broker.groups.listGroups(v >= 4 ? (request.statesFilter ?? []) : [], v >= 5 ? (request.typesFilter ?? []) : []);
    return { errorCode: 0, groups };
  },
});
