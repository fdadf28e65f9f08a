// The shared body of AlterConfigs and IncrementalAlterConfigs: one result per resource.
import { KafkaError } from '../../protocol/errors.js';
import type { RequestContext } from '../api-handler.js';
import { alterConfigs } from '../configs.js';

export async function alterResources(ctx: RequestContext, request: any, incremental: boolean) {
  const responses = [];
  for (const r of request.resources) {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    try {
      const entries = r.configs.map((c: any) => ({ name: c.name, value: c.value, op: c.configOperation }));
      await alterConfigs(ctx.broker, r.resourceType, r.resourceName, entries, incremental, request.validateOnly);
      responses.push({ ...base, errorCode: 0, errorMessage: null });
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      responses.push({ ...base, errorCode: err.code, errorMessage: err.message });
    }
  }
  return responses;
}
