// The BROKER_LOGGER config resource (type 8, Kafka's KIP-412): the broker's loggers and their
// levels, read with DescribeConfigs and changed at run time with IncrementalAlterConfigs (SET a
// level, DELETE to inherit again). Levels live only in this process, as in Kafka (not persisted).
// Legacy AlterConfigs refuses the type (INVALID_REQUEST, in configs.ts).
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { BrokerContext } from './broker-context.js';
import type { AlterEntry, ConfigEntry } from './configs.js';
import { AlterOp } from './configs.js';
import { LOG_LEVEL_NAMES, ROOT_LOGGER, levelName, parseLevelName } from './logger.js';

/** DescribeConfigs configSource of every logger entry. */
const DYNAMIC_BROKER_LOGGER_CONFIG = 6;
const VALID_LEVELS = [...LOG_LEVEL_NAMES].sort().join(', ');

/** Kafka's ConfigHelper: the name must be this broker's id. */
function checkDescribeName(broker: BrokerContext, resourceName: string): void {
  if (!resourceName) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Broker id must not be empty');
  if (!/^-?\d+$/.test(resourceName)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Broker id must be an integer, but it is: ${resourceName}`);
  if (Number(resourceName) !== broker.nodeId) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.nodeId} but received ${resourceName}`);
  }
}

/** `root` and every logger the broker made, each with the level it logs at. */
export function describeBrokerLoggers(broker: BrokerContext, resourceName: string, names: string[] | null): ConfigEntry[] {
  checkDescribeName(broker, resourceName);
  return broker.log.levels
    .list()
    .filter((l) => !names || names.includes(l.name))
    .map((l) => ({
      name: l.name,
      value: levelName(l.level),
      readOnly: false,
      isDefault: false,
      configSource: DYNAMIC_BROKER_LOGGER_CONFIG,
      isSensitive: false,
      synonyms: [],
      configType: 0,
      documentation: null,
    }));
}

/** Kafka's RuntimeLoggerManager: validates every op, then (unless validateOnly) applies them all. */
export function alterBrokerLoggers(broker: BrokerContext, resourceName: string, entries: AlterEntry[], validateOnly: boolean): void {
  const levels = broker.log.levels;
  if (!/^-?\d+$/.test(resourceName)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Node id must be an integer, but it is: ${resourceName}`);
  // (Kafka 3.9 prints its own id twice here; kts names the id it received.)
  if (Number(resourceName) !== broker.nodeId) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected node id. Expected ${broker.nodeId}, but received ${resourceName}`);
  }
  const names = entries.map((e) => e.name);
  if (new Set(names).size !== names.length) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
  const nulls = entries.filter((e) => e.op !== AlterOp.DELETE && e.value === null).map((e) => e.name);
  if (nulls.length > 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
  const mustExist = (name: string) => {
    if (!levels.exists(name)) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Logger ${name} does not exist!`);
  };
  for (const e of entries) {
    const op = e.op ?? AlterOp.SET;
    if (op === AlterOp.SET) {
      mustExist(e.name);
      if (parseLevelName(e.value!) === undefined) {
        throw new KafkaError(
          ErrorCode.INVALID_CONFIG,
          `Cannot set the log level of ${e.name} to ${e.value} as it is not a supported log level. Valid log levels are ${VALID_LEVELS}`,
        );
      }
    } else if (op === AlterOp.DELETE) {
      mustExist(e.name);
      if (e.name === ROOT_LOGGER) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Removing the log level of the ${ROOT_LOGGER} logger is not allowed`);
    } else if (op === AlterOp.APPEND || op === AlterOp.SUBTRACT) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `${op === AlterOp.APPEND ? 'APPEND' : 'SUBTRACT'} operation is not allowed for the BROKER_LOGGER resource`);
    } else {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown operation type ${op} is not allowed for the BROKER_LOGGER resource`);
    }
  }
  if (validateOnly) return;
  for (const e of entries) {
    if ((e.op ?? AlterOp.SET) === AlterOp.SET) {
      levels.set(e.name, parseLevelName(e.value!)!);
      broker.log.warn(`Updated the log level of ${e.name} to ${e.value}`);
    } else {
      levels.unset(e.name);
      broker.log.warn(`Unset the log level of ${e.name}`);
    }
  }
}
