// kts server-start [server.properties] [--override k=v ...] — Kafka's kafka-server-start.sh.
// With no arguments: localhost:9092, data in ~/.kts/data, loopback only, embedded coordinator.
// With --brokers N: a local cluster (a coordinator and N brokers, src/broker/local-cluster/).
// --as-kafka 3.9|4.0|4.4: speak as that Kafka release (its ApiVersions ranges; key kts.as.kafka).
// --storage memory: keep the logs in the broker process, nothing on disk (key kts.storage).
import type { Argv, CommandModule } from 'yargs';
import { AS_KAFKA_RELEASES, parseAsKafka } from '../src/broker/kafka-releases.js';
import { paceGcByBytesReceived } from '../src/broker/network/gc-pacing.js';
import { parseDaemonArgs } from '../src/cli/daemon-args.js';

interface Args {
  config?: string;
  override?: string[];
  brokers?: number;
  port?: number;
  'coordinator-port'?: number;
  'data-dir'?: string;
  'as-kafka'?: string;
  storage?: string;
}

const CLUSTER_ONLY = ['port', 'coordinator-port', 'data-dir'] as const;

const command: CommandModule<object, Args> & { direct(args: string[]): Args | undefined } = {
  command: 'server-start [config]',
  describe: 'Start a Kafka broker (embedded coordinator unless zookeeper.connect is set)',
  builder: (yargs: Argv) =>
    yargs
      .positional('config', { type: 'string', describe: 'server.properties file' })
      .option('override', { type: 'string', array: true, describe: 'Override a property: --override key=value' })
      .option('brokers', {
        type: 'number',
        describe: 'Start a local cluster: a ZooKeeper-protocol coordinator and this many brokers (ids 0..N-1), each its own process',
      })
      .option('port', { type: 'number', describe: 'With --brokers: the first broker\'s port; the others follow (default 9092)' })
      .option('coordinator-port', { type: 'number', describe: 'With --brokers: the coordinator\'s port (default 2181, or the next free one)' })
      .option('data-dir', { type: 'string', describe: 'With --brokers: where the cluster keeps broker-<id>/ and coordinator/ (default ~/.kts/cluster)' })
      .option('as-kafka', {
        type: 'string',
        describe: `Speak as that Kafka release (${AS_KAFKA_RELEASES.join(', ')}): advertise and serve exactly its API versions (the key kts.as.kafka)`,
      })
      .option('storage', {
        type: 'string',
        describe: 'files (under log.dirs) or memory (in the broker process only: nothing is written to disk, all is gone at exit; the key kts.storage)',
      }) as Argv<Args>,
  // (--brokers and its options too: yargs would cost a cluster's start about 0.4 s)
  direct: (args) => parseDaemonArgs(args, { overrides: true, numbers: ['brokers', 'port', 'coordinator-port'], strings: ['data-dir', 'as-kafka', 'storage'] }) as Args | undefined,
  handler: async (args) => {
    const stray = CLUSTER_ONLY.find((o) => args[o] !== undefined);
    if (args.brokers === undefined && stray) {
      // (a yargs check() here would report the error and still run the handler)
      process.stderr.write(`kts: --${stray} is used with --brokers only (a single broker takes listeners and log.dirs)\n`);
      process.exitCode = 1;
      return;
    }
    const asKafka = args['as-kafka'];
    if (asKafka !== undefined) {
      if (!parseAsKafka(asKafka)) {
        process.stderr.write(`kts: --as-kafka must be one of ${AS_KAFKA_RELEASES.join(', ')}, not ${asKafka}\n`);
        process.exitCode = 1;
        return;
      }
      // The same as --override kts.as.kafka=<release>, so every broker of a local cluster gets it too.
      args.override = [...(args.override ?? []), `kts.as.kafka=${asKafka}`];
    }
    if (args.storage !== undefined) {
      if (args.storage !== 'files' && args.storage !== 'memory') {
        process.stderr.write(`kts: --storage must be files or memory, not ${args.storage}\n`);
        process.exitCode = 1;
        return;
      }
      args.override = [...(args.override ?? []), `kts.storage=${args.storage}`];
    }
    if (args.brokers !== undefined) {
      const { runLocalCluster } = await import('../src/broker/local-cluster/supervisor.js');
      await runLocalCluster({
        brokers: args.brokers,
        port: args.port,
        coordinatorPort: args['coordinator-port'],
        dataDir: args['data-dir'],
        config: args.config,
        override: args.override,
      });
      return;
    }
    // Before the broker's code loads: V8 grows the young generation while a program loads (to 4 MB
    // semi-spaces for the broker's start, most of it then idle); the pacing keeps it at 1 MB.
    paceGcByBytesReceived();
    const { runServerStart } = await import('../src/broker/server-start.js');
    await runServerStart(args);
  },
};

export default command;
