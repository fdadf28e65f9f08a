// DescribeConfigs v0-v4 for topics, this broker and its loggers; v1+ report sources and synonyms.
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';
import { describeBrokerLoggers } from '../broker-loggers.js';
import { ResourceType, describeBrokerConfigs, describeTopicConfigs } from '../configs.js';
import { configsAuthorizationError } from './alter-resources.js';
import { Op } from '../auth/check.js';

export default defineHandler({
  apiKey: 32,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    const { broker } = ctx;
    const results = request.resources.map((r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      const denied = configsAuthorizationError(ctx, Op.DESCRIBE_CONFIGS, r.resourceType, r.resourceName);
      if (denied) return { ...base, ...denied, configs: [] };
      try {
        let configs;
        if (r.resourceType === ResourceType.TOPIC) {
          const topic = broker.topics.get(r.resourceName);
          if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${r.resourceName} does not exist.`);
          configs = describeTopicConfigs(broker, topic.configs, r.configurationKeys, request.includeSynonyms);
        } else if (r.resourceType === ResourceType.BROKER) {
          configs = describeBrokerConfigs(broker, r.resourceName, r.configurationKeys, request.includeSynonyms);
        } else if (r.resourceType === ResourceType.BROKER_LOGGER) {
          configs = describeBrokerLoggers(broker, r.resourceName, r.configurationKeys);
        } else {
          throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${r.resourceType}`);
        }
        return { ...base, errorCode: 0, errorMessage: null, configs };
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        return { ...base, errorCode: err.code, errorMessage: err.message, configs: [] };
      }
    });
    return { results };
  },
});
