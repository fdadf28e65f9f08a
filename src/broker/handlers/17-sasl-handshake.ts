// SaslHandshake v0-v1: a SASL listener's connection names its mechanism (v1: the exchange then comes
// in SaslAuthenticate requests, KIP-152). An unknown or disabled mechanism is answered
// UNSUPPORTED_SASL_MECHANISM with the enabled ones, and the connection is closed, as Kafka does.
// On a connection that is not (or no longer) in its handshake: ILLEGAL_SASL_STATE. On an authenticated
// connection whose session expires (KIP-368) the dispatcher has already begun re-authentication, so it
// is handled as the first handshake; a mechanism other than the session's is answered NONE, as
// Kafka does, and the exchange fails at the next request.
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 17,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const sasl = ctx.connection.sasl;
    // Kafka's authenticator fails any request after a re-authentication named another mechanism.
    if (sasl?.state === 'reauth-bad-mechanism') throw new ProtocolError(sasl.badMechanismMessage ?? 'SASL re-authentication with another mechanism');
    if (!sasl || sasl.state !== 'handshake') {
      // A second handshake in the middle of an exchange ends it (Kafka's authenticator fails the
      // connection); after authentication Kafka's request handler answers and the connection stays.
      if (sasl && !sasl.complete) ctx.connection.closeAfterResponse?.('SaslHandshake during a SASL exchange');
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    }
    const mechanism: string = request.mechanism ?? '';
    if (!sasl.handshake(mechanism)) {
      ctx.connection.closeAfterResponse?.(`unsupported SASL mechanism ${mechanism}`);
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: sasl.config.mechanisms };
    }
    return { errorCode: ErrorCode.NONE, mechanisms: sasl.config.mechanisms };
  },
});
