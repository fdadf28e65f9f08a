// DeleteGroups v0-v2. Only empty groups can go (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND
// for unknown ones); their offsets and metadata get tombstones in __consumer_offsets.
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 42,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    return { results: await ctx.broker.groups.deleteGroups(request.groupsNames) };
  },
});
