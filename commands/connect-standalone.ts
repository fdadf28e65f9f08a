// kts connect-standalone worker.properties [connector1.properties connector2.json ...] — Kafka's
// connect-standalone.sh: a Connect worker with its REST API, running the given connectors.
import type { Argv, CommandModule } from 'yargs';

interface Args {
  files?: string[];
}

const USAGE = 'Usage: ConnectStandalone worker.properties [connector1.properties connector2.json ...]';

const command: CommandModule<object, Args> & { direct(args: string[]): Args | undefined } = {
  command: 'connect-standalone [files..]',
  describe: 'Run a Kafka Connect worker in standalone mode with the given connectors',
  builder: (yargs: Argv) =>
    yargs
      .positional('files', { type: 'string', array: true, describe: 'worker.properties, then connector configs (.properties or .json)' })
      .example('kts connect-standalone config/connect-standalone.properties config/connect-file-source.properties', 'the quickstart\'s file source') as Argv<Args>,
  direct: (args) => (args.some((a) => a.startsWith('-')) ? undefined : { files: args }),
  handler: async (args) => {
    const files = args.files ?? [];
    if (files.length < 1) {
      process.stderr.write(`${USAGE}\n`);
      process.exitCode = 1;
      return;
    }
    const { startStandalone } = await import('../src/connect/standalone.js');
    const { runWorker } = await import('../src/connect/run-worker.js');
    await runWorker('connect-standalone', () => startStandalone(files[0], files.slice(1)));
  },
};

export default command;
