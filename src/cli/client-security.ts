// A Kafka client's security settings in the tools' --command-config / --producer.config /
// --consumer.config files (src/client/security-properties.ts reads them); a bad one is a CLI error.
import type { Properties } from '../config/properties.js';
import type { ClientSecurity } from '../client/connection.js';
import { securityFromProperties } from '../client/security-properties.js';
import { CliError } from './errors.js';

/** undefined for PLAINTEXT (the default). */
export function clientSecurity(props: Properties): ClientSecurity | undefined {
  return securityFromProperties(props, (message) => new CliError(message));
}
