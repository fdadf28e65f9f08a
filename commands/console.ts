// kts console [--bootstrap-server host:port] [--port N] [--host addr] — a web console on loopback:
// cluster overview, topics, a message browser, produce, consumer groups with their lag.
import type { Argv, CommandModule } from 'yargs';
import { parseDaemonArgs } from '../src/cli/daemon-args.js';

interface Args {
  'bootstrap-server'?: string;
  port?: number;
  host?: string;
}

const command: CommandModule<object, Args> & { direct(args: string[]): Args | undefined } = {
  command: 'console',
  describe: 'Serve a web console for the cluster on loopback (default http://127.0.0.1:9021/)',
  builder: (yargs: Argv) =>
    yargs
      .option('bootstrap-server', { type: 'string', describe: 'The cluster to show (default: the profile $KTS_PROFILE names, else $KTS_BOOTSTRAP_SERVER, else the profile in use, else localhost:9092)' })
      .option('port', { type: 'number', describe: 'The port to serve on (default 9021; 0 picks a free one)' })
      .option('host', { type: 'string', describe: 'The address to bind (default 127.0.0.1: this machine only)' })
      .example('kts console', 'serve http://127.0.0.1:9021/ for localhost:9092')
      .example('kts console --bootstrap-server kafka:9092 --port 8080', 'another cluster, another port') as Argv<Args>,
  // Parsed without yargs when plain: the page's first load counts from the process start.
  direct: (args) => {
    const parsed = parseDaemonArgs(args, { overrides: false, numbers: ['port'], strings: ['bootstrap-server', 'host'] });
    return parsed && parsed.config === undefined ? (parsed as Args) : undefined;
  },
  handler: async (args) => {
    const { startConsole } = await import('../src/console/console-server.js');
    let bootstrap = args['bootstrap-server'] ?? '';
    let server;
    try {
      let security;
      if (args['bootstrap-server'] === undefined) {
        // No --bootstrap-server: a profile's cluster and settings, as every tool (src/cli/profiles.ts).
        const { activeProfile } = await import('../src/cli/profiles.js');
        const profile = activeProfile(process.env);
        bootstrap = profile?.bootstrapServers ?? (process.env.KTS_BOOTSTRAP_SERVER || 'localhost:9092');
        if (profile) {
          const [{ profileProperties }, { clientSecurity }] = await Promise.all([import('../src/cli/connect.js'), import('../src/cli/client-security.js')]);
          security = clientSecurity(await profileProperties(profile));
        }
      }
      server = await startConsole({ bootstrap, security, port: args.port, host: args.host });
    } catch (err) {
      process.stderr.write(`kts console: ${(err as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`kts console: ${server.url} (cluster ${bootstrap}; Ctrl-C stops it)\n`);
    const stop = () => void server.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  },
};

export default command;
