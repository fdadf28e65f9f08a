// kts connect-distributed worker.properties — Kafka's connect-distributed.sh: a Connect worker of
// the group named by group.id; connectors are created through the REST API.
import type { Argv, CommandModule } from 'yargs';

interface Args {
  files?: string[];
}

const USAGE = 'Usage: ConnectDistributed worker.properties';

const command: CommandModule<object, Args> & { direct(args: string[]): Args | undefined } = {
  command: 'connect-distributed [files..]',
  describe: 'Run a Kafka Connect worker in distributed mode (a member of group.id)',
  builder: (yargs: Argv) =>
    yargs
      .positional('files', { type: 'string', array: true, describe: 'worker.properties, then connector configs (.properties or .json)' })
      .example('kts connect-distributed config/connect-distributed.properties', 'a worker of the group in that file') as Argv<Args>,
  direct: (args) => (args.some((a) => a.startsWith('-')) ? undefined : { files: args }),
  handler: async (args) => {
    const files = args.files ?? [];
    if (files.length !== 1) {
      process.stderr.write(`${USAGE}\n`);
      process.exitCode = 1;
      return;
    }
    const { startDistributed } = await import('../src/connect/distributed.js');
    const { runWorker } = await import('../src/connect/run-worker.js');
    await runWorker('connect-distributed', () => startDistributed(files[0]));
  },
};

export default command;
