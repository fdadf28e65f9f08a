// InitProducerId v0-v5. Idempotent producers only (transactionalId null): like Kafka, every request
// gets a fresh producer id with epoch 0 — also v3+ requests carrying a current id/epoch, which
// Kafka bumps only for transactional ids. Transactions are not implemented: a transactional id is
// refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED (fatal, so a client does not retry forever).
// v2+ flexible; v4/v5 only allow new error codes we never send.
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerContext } from '../broker-context.js';
import { ProducerIdManager } from '../producer-ids.js';
import { errorCodeOf } from './common.js';

const managers = new WeakMap<BrokerContext, ProducerIdManager>();

function managerFor(broker: BrokerContext): ProducerIdManager {
  let m = managers.get(broker);
  if (!m) {
    m = new ProducerIdManager(broker.config.logDirs[0]);
    managers.set(broker, m);
  }
  return m;
}

export default defineHandler({
  apiKey: 22,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    if (request.transactionalId !== null && request.transactionalId !== undefined) {
      return { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    }
    try {
      const producerId = await managerFor(ctx.broker).generate();
      return { errorCode: 0, producerId, producerEpoch: 0 };
    } catch (err) {
      const { code } = errorCodeOf(ctx.broker, err, 'allocating a producer id');
      return { errorCode: code, producerId: -1, producerEpoch: -1 };
    }
  },
});
