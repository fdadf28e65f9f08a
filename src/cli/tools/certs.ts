// The work of `kts certs`: a development CA (made once per directory, then reused) and broker and
// client certificates it signs, written as PEM files that Kafka's PEM keystore/truststore keys read.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CliError, UsageError } from '../errors.js';
import type { ParsedArgs } from '../options.js';
import type { ToolContext } from '../tool.js';
import { makeCertificate, newKeyPair, type DistinguishedName } from '../../security/x509.js';

const CA_NAME: DistinguishedName = [['O', 'kts'], ['CN', 'kts development CA']];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`Cannot read ${path}: ${(err as Error).message}`);
  }
}

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  const dir = resolve(args.str('dir') ?? 'kts-certs');
  const daysText = args.str('days') ?? '365';
  if (!/^\d+$/.test(daysText) || Number(daysText) < 1 || Number(daysText) > 36500) throw new UsageError(`--days must be a whole number of days from 1 to 36500, not ${daysText}`);
  const days = Number(daysText);
  const brokers = args.all('broker').length ? args.all('broker') : ['broker'];
  const clients = args.all('client').length ? args.all('client') : ['client'];
  const hosts = args.all('host').length ? args.all('host') : ['localhost', '127.0.0.1', '::1'];
  for (const n of [...brokers, ...clients]) {
    if (!NAME.test(n)) throw new UsageError(`Certificate name ${JSON.stringify(n)} must be letters, digits, '.', '_' or '-' (it names the files)`);
  }
  if (new Set([...brokers, ...clients, 'ca']).size !== brokers.length + clients.length + 1) throw new UsageError('Each broker and client name must be different, and none may be "ca"');
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new CliError(`Cannot create ${dir}: ${(err as Error).message}`);
  }

  const caCertPath = resolve(dir, 'ca.pem');
  const caKeyPath = resolve(dir, 'ca.key');
  const [existingCert, existingKey] = await Promise.all([readIfExists(caCertPath), readIfExists(caKeyPath)]);
  let caPem: string;
  let caKey;
  let caPublic;
  let reused = false;
  if (existingCert !== undefined && existingKey !== undefined) {
    try {
      caKey = createPrivateKey(existingKey);
      caPem = existingCert;
      caPublic = createPublicKey(caKey);
      if (!new X509Certificate(caPem).checkPrivateKey(caKey)) throw new Error('ca.key is not the key of ca.pem');
    } catch (err) {
      throw new CliError(`The CA in ${dir} cannot be used: ${(err as Error).message}`);
    }
    reused = true;
  } else if (existingCert !== undefined || existingKey !== undefined) {
    throw new CliError(`${dir} holds one of ca.pem and ca.key without the other; remove it or choose another --dir`);
  } else {
    const pair = newKeyPair();
    caKey = pair.privateKey;
    caPublic = pair.publicKey;
    // The CA outlives what it signs: ten years, or the leaves' validity if that is longer.
    caPem = makeCertificate({ subject: CA_NAME, issuer: CA_NAME, publicKey: pair.publicKey, issuerKey: caKey, issuerPublicKey: caPublic, ca: true, days: Math.max(days, 3650) });
    await writeFile(caKeyPath, pair.privateKeyPem, { mode: 0o600 });
    await writeFile(caCertPath, caPem);
  }
  const caSubject = new X509Certificate(caPem).subject.split('\n').map((rdn) => rdn.split('=')) as DistinguishedName;

  const written: { name: string; role: 'broker' | 'client'; subject: string; keystore: string; certificate: string; key: string }[] = [];
  for (const [role, names] of [['broker', brokers], ['client', clients]] as const) {
    for (const name of names) {
      const pair = newKeyPair();
      const subject: DistinguishedName = [['O', 'kts'], ['OU', role], ['CN', role === 'broker' ? hosts[0] ?? name : name]];
      const cert = makeCertificate({
        subject,
        issuer: caSubject,
        publicKey: pair.publicKey,
        issuerKey: caKey,
        issuerPublicKey: caPublic,
        ca: false,
        altNames: role === 'broker' ? hosts : undefined,
        days,
      });
      const chain = cert + caPem;
      const paths = { keystore: resolve(dir, `${name}.pem`), certificate: resolve(dir, `${name}.crt`), key: resolve(dir, `${name}.key`) };
      await writeFile(paths.keystore, pair.privateKeyPem + chain, { mode: 0o600 });
      await writeFile(paths.certificate, chain);
      await writeFile(paths.key, pair.privateKeyPem, { mode: 0o600 });
      written.push({ name, role, subject: subject.slice().reverse().map(([k, v]) => `${k}=${v}`).join(','), ...paths });
    }
  }

  if (ctx.out.mode === 'json') {
    ctx.out.write(JSON.stringify({ dir, ca: { certificate: caCertPath, key: caKeyPath, reused }, certificates: written }, null, 2) + '\n');
    return 0;
  }
  const lines = [`${reused ? 'Reused the CA' : 'Made a CA'} in ${caCertPath} (key ${caKeyPath}).`];
  for (const w of written) lines.push(`Made ${w.role} certificate ${w.keystore} for ${w.subject}${w.role === 'broker' ? ` (hosts ${hosts.join(', ')})` : ''}, valid ${days} days.`);
  const broker = written.find((w) => w.role === 'broker')!;
  const client = written.find((w) => w.role === 'client')!;
  lines.push(
    '',
    '# server.properties',
    'listeners=SSL://localhost:9093',
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${broker.keystore}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${caCertPath}`,
    'ssl.client.auth=required',
    '',
    '# client.properties (kts tools: --command-config client.properties)',
    'security.protocol=SSL',
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${client.keystore}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${caCertPath}`,
  );
  ctx.out.write(lines.join('\n') + '\n');
  return 0;
}
