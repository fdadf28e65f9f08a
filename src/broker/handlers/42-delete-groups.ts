// DeleteGroups v0-v3 (v3 adds a per-group error message, null as Kafka 4.4 answers). Only empty groups can go (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND
// for unknown ones); their offsets and metadata get tombstones in __consumer_offsets.
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 42,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, ctx) {
    return { results: await ctx.broker.groups.deleteGroups(request.groupsNames) };
  },
});
