// What the code under test throws, as a Kafka error code: tests compare codes, not messages.
import { KafkaError } from '../../src/protocol/errors.js';

/** The KafkaError code `fn` throws; undefined if it returns. Anything else is rethrown. */
export function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof KafkaError) return err.code;
    throw err;
  }
}
