// How the matrix starts each client's driver (protocol.md), after scripts/fetch-clients.mjs has
// prepared what needs preparing (Python packages, Go binaries, the Java class), cached under
// ~/.cache/kts-interop.
import { resolve } from 'node:path';
import { kcatPath } from '../../helpers/tools.js';
import { KAFKA_4, kafkaLib } from '../../helpers/real-kafka.js';
import type { DriverCommand } from './runner.js';
// @ts-expect-error a plain ES module script without types
import { prepareGo, prepareJava, preparePython } from '../../../scripts/fetch-clients.mjs';

const DRIVERS = resolve(import.meta.dirname, 'drivers');
const node = (file: string): DriverCommand => ({ command: process.execPath, args: [resolve(DRIVERS, file)] });

/** The command for a client's driver; throws with the reason when the client cannot be prepared. */
export function driverFor(client: string): DriverCommand {
  switch (client) {
    case 'kafkajs':
      return node('kafkajs/driver.mjs');
    case 'platformatic-classic':
    case 'platformatic':
      return node('platformatic/driver.mjs');
    case 'kcat': {
      const kcat = kcatPath();
      if (!kcat) throw new Error('kcat is not installed');
      return { ...node('kcat/driver.mjs'), env: { KCAT: kcat } };
    }
    case 'confluent-kafka-python':
      return { command: 'python3', args: [resolve(DRIVERS, 'python/confluent_driver.py')], env: { PYTHONPATH: preparePython() } };
    case 'kafka-python':
      return { command: 'python3', args: [resolve(DRIVERS, 'python/kafka_python_driver.py')], env: { PYTHONPATH: preparePython() } };
    case 'java': {
      const lib = kafkaLib(KAFKA_4);
      if (!lib) throw new Error('Kafka 4.4 jars are missing (node scripts/fetch-kafka.mjs)');
      const classes = prepareJava(lib);
      return { command: 'java', args: ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto', '-cp', `${classes}:${lib}/*`, 'MatrixDriver'] };
    }
    case 'franz-go':
      return { command: prepareGo().franz, args: [] };
    case 'sarama':
      return { command: prepareGo().sarama, args: [] };
    default:
      throw new Error(`no driver for ${client}`);
  }
}
