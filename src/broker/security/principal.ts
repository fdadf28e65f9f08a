// Who is on the other end of a connection, as Kafka's KafkaPrincipal ("User:alice"). The
// authorizer matches ACLs against it; the listeners set it once a connection has authenticated.
//   PLAINTEXT, and SSL without a client certificate:  User:ANONYMOUS
//   SASL_PLAINTEXT / SASL_SSL:                         User:<the SASL authorization id>
//   SSL with a client certificate:                     User:<the certificate's subject DN, RFC 2253>
export interface KafkaPrincipal {
  readonly type: string;
  readonly name: string;
}

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export const ANONYMOUS: KafkaPrincipal = Object.freeze({ type: 'User', name: 'ANONYMOUS' });

export function userPrincipal(name: string): KafkaPrincipal {
  return { type: 'User', name };
}

/** "User:alice", as Kafka prints and parses principals (kafka-acls' --allow-principal). */
export function principalToString(p: KafkaPrincipal): string {
  return `${p.type}:${p.name}`;
}
