// One SASL exchange on the broker side: it is fed each client token (the SaslAuthenticate bytes) and
// answers the next server token, until it is complete with an authorization id (the principal's
// name), or it throws SaslAuthenticationError (the client then gets SASL_AUTHENTICATION_FAILED and
// the connection is closed).
export class SaslAuthenticationError extends Error {
  /** What was wrong, for the broker's log when the client is told less (`message`). */
  readonly reason: string;
  constructor(message: string, reason?: string) {
    super(message);
    this.reason = reason ?? message;
  }
}

export interface SaslStep {
  /** Bytes for the client (SaslAuthenticate's authBytes). */
  challenge: Buffer;
  /** Set once the exchange is complete: who authenticated. */
  authorizationId?: string;
  /** When the credential itself stops being valid (an OAUTHBEARER token's exp), in ms since the epoch. */
  credentialExpiresAtMs?: number;
}

export interface SaslServerMechanism {
  step(token: Buffer): Promise<SaslStep> | SaslStep;
}

/** Kafka's message for a refused exchange: it names the mechanism, never why (no user enumeration). */
export function authenticationFailed(mechanism: string, reason?: string): SaslAuthenticationError {
  return new SaslAuthenticationError(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`, reason);
}
