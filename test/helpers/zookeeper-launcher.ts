// Runs commands/zookeeper-server-start.ts through yargs, as the kts binary does, without needing
// `npm run build`: test/helpers/zookeeper.ts bundles this file with esbuild and spawns it.
import yargs from 'yargs';
import command from '../../commands/zookeeper-server-start.js';

await yargs(process.argv.slice(2)).command(command).demandCommand(1).strict().parseAsync();
