// kts zookeeper-server-start [zookeeper.properties] — Kafka's zookeeper-server-start.sh: a
// standalone ZooKeeper-protocol coordinator. With no file: 127.0.0.1:2181, data in ~/.kts/zookeeper.
import type { Argv, CommandModule } from 'yargs';
import { parseDaemonArgs } from '../src/cli/daemon-args.js';

interface Args {
  config?: string;
}

const command: CommandModule<object, Args> & { direct(args: string[]): Args | undefined } = {
  command: 'zookeeper-server-start [config]',
  describe: 'Start a ZooKeeper-protocol coordinator from a zookeeper.properties file',
  builder: (yargs: Argv) =>
    yargs.positional('config', { type: 'string', describe: 'zookeeper.properties / zoo.cfg file' }) as Argv<Args>,
  direct: (args) => parseDaemonArgs(args, { overrides: false }),
  handler: async (args) => {
    const { runZookeeperServerStart } = await import('../src/coordinator/start-command.js');
    await runZookeeperServerStart(args.config);
  },
};

export default command;
