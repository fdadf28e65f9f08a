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

/** codeOf for a promise: the KafkaError code it rejects with; undefined if it resolves. */
export async function codeOfAsync(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    if (err instanceof KafkaError) return err.code;
    throw err;
  }
}
