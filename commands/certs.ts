// kts certs — not a Kafka tool: a local CA and broker/client certificates for TLS listeners in development.
import { defineTool } from '../src/cli/tool.js';

export default defineTool({
  name: 'certs',
  kafkaName: 'kts-certs',
  describe: 'Make a development CA and broker/client certificates (PEM) for TLS listeners',
  summary: 'Makes a local certificate authority (or reuses the one in --dir) and PEM certificates signed by it, for ssl.keystore.* / ssl.truststore.* of a broker and its clients.',
  outputs: ['plain', 'json'],
  runtimeError: { prefix: 'Error: ', stream: 'stderr' },
  load: () => import('../src/cli/tools/certs.js'),
  options: [
    { name: 'dir', arg: 'required', argName: 'directory', describe: 'Where to write the files (created if missing). Default: ./kts-certs.' },
    { name: 'broker', arg: 'required', argName: 'name', repeatable: true, describe: 'A broker certificate to make (repeatable). Default: broker.' },
    { name: 'host', arg: 'required', argName: 'host or IP', repeatable: true, describe: 'A name clients reach the brokers by, put in their certificates (repeatable). Default: localhost, 127.0.0.1, ::1.' },
    { name: 'client', arg: 'required', argName: 'name', repeatable: true, describe: 'A client certificate to make, with CN=<name> (repeatable). Default: client.' },
    { name: 'days', arg: 'required', argName: 'days', describe: 'How long the new certificates are valid. Default: 365.' },
  ],
  epilogue:
    'Files: ca.pem (the truststore: ssl.truststore.location), ca.key, and for each broker and client <name>.pem ' +
    '(private key and certificate chain: ssl.keystore.type=PEM, ssl.keystore.location), <name>.crt and <name>.key ' +
    '(the same, apart, for clients that want ssl.certificate.location / ssl.key.location). Keys are ECDSA P-256, ' +
    'files with keys are mode 0600. A CA already in --dir is reused, so more clients can be added later.',
  examples: [
    ['', 'a CA, a broker certificate for localhost and a client certificate in ./kts-certs'],
    ['--dir certs --broker broker-0 --broker broker-1 --host kafka.local', 'two brokers reached as kafka.local'],
    ['--dir certs --client billing', 'one more client certificate signed by the CA already in certs/'],
  ],
});
