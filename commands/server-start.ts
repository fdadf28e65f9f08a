// kts server-start [server.properties] [--override k=v ...] — Kafka's kafka-server-start.sh.
// With no arguments: localhost:9092, data in ~/.kts/data, loopback only, embedded coordinator.
import type { Argv, CommandModule } from 'yargs';
import { parseDaemonArgs } from '../src/cli/daemon-args.js';

interface Args {
  config?: string;
  override?: string[];
}

const command: CommandModule<object, Args> & { direct(args: string[]): Args | undefined } = {
  command: 'server-start [config]',
  describe: 'Start a Kafka broker (embedded coordinator unless zookeeper.connect is set)',
  builder: (yargs: Argv) =>
    yargs
      .positional('config', { type: 'string', describe: 'server.properties file' })
      .option('override', { type: 'string', array: true, describe: 'Override a property: --override key=value' }) as Argv<Args>,
  direct: (args) => parseDaemonArgs(args, { overrides: true }),
  handler: async (args) => {
    const { runServerStart } = await import('../src/broker/server-start.js');
    await runServerStart(args);
  },
};

export default command;
