// Certificates for the security tests, made by `kts certs` itself (the real binary).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { KTS_BIN, tempDir } from '../../helpers/broker.js';

export interface Certs {
  dir: string;
  ca: string;
  broker: string;
  /** A client's keystore PEM (key + chain). */
  client(name: string): string;
}

/** A CA, a broker certificate for 127.0.0.1/localhost and one client certificate per name. */
export function makeCerts(clients: string[] = ['client'], dir = tempDir('kts-certs-')): Certs {
  execFileSync(process.execPath, [KTS_BIN, 'certs', '--dir', dir, ...clients.flatMap((c) => ['--client', c]), '--days', '2'], { stdio: 'pipe' });
  return { dir, ca: join(dir, 'ca.pem'), broker: join(dir, 'broker.pem'), client: (name) => join(dir, `${name}.pem`) };
}

/** The broker overrides of a TLS listener with these certificates. */
export function tlsOverrides(certs: Certs, clientAuth: 'required' | 'requested' | 'none'): Record<string, string> {
  return {
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': certs.broker,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': certs.ca,
    'ssl.client.auth': clientAuth,
  };
}
