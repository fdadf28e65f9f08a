// SaslAuthenticate v0-v2 (KIP-152): one step of the mechanism chosen by SaslHandshake. A refused
// exchange is answered SASL_AUTHENTICATION_FAILED with the reason and the connection is closed once
// that answer is out; before SaslHandshake the connection is closed without an answer, as Kafka's.
// The completing answer carries the session's lifetime (KIP-368: connections.max.reauth.ms for the
// mechanism, or an OAUTHBEARER token's remaining life; 0: no expiry); a re-authentication that changes
// the principal is refused SASL_AUTHENTICATION_FAILED, one that changed the mechanism is closed unanswered.
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import { principalToString } from '../security/principal.js';
import { SaslAuthenticationError } from '../security/sasl/mechanism.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 36,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const sasl = ctx.connection.sasl;
    // Before SaslHandshake Kafka's authenticator takes it for an unexpected request: closed, unanswered.
    if (sasl?.state === 'handshake') throw new ProtocolError('Unexpected Kafka request of type SaslAuthenticate during SASL handshake');
    if (sasl?.state === 'reauth-bad-mechanism') throw new ProtocolError(sasl.badMechanismMessage ?? 'SASL re-authentication with another mechanism');
    if (!sasl || sasl.state !== 'authenticate') {
      const message = sasl?.complete || !sasl ? 'SaslAuthenticate request received after successful authentication' : 'Unexpected SaslAuthenticate request before SaslHandshake';
      if (sasl && !sasl.complete) ctx.connection.closeAfterResponse?.(message);
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: message, authBytes: Buffer.alloc(0) };
    }
    try {
      const reauthenticating = sasl.reauthenticating;
      const outcome = await sasl.authenticate(request.authBytes);
      if (outcome.authorizationId !== undefined) {
        const lifetime = outcome.sessionLifetimeMs ? `, session lifetime ${outcome.sessionLifetimeMs} ms` : '';
        ctx.broker.log.debug(`Connection ${ctx.connection.remoteAddress} on ${ctx.connection.listenerName} ${reauthenticating ? 're-authenticated' : 'authenticated'} with ${sasl.mechanism} as ${principalToString(ctx.connection.principal)}${lifetime}`);
      }
      return { errorCode: ErrorCode.NONE, errorMessage: '', authBytes: outcome.authBytes, sessionLifetimeMs: outcome.sessionLifetimeMs ?? 0 };
    } catch (err) {
      if (!(err instanceof SaslAuthenticationError)) throw err;
      ctx.broker.log.info(`Failed authentication with ${ctx.connection.remoteAddress} on ${ctx.connection.listenerName} (${sasl.mechanism}: ${err.reason})`);
      ctx.connection.closeAfterResponse?.(`SASL authentication failed (${sasl.mechanism})`);
      return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: err.message, authBytes: Buffer.alloc(0) };
    }
  },
});
