// The kts entry point of the ES module build (dist/main.js): every command, each in its own chunks.
// bin/kts.js comes here for the daemons, help, completion and anything unusual; the tools that talk
// to a cluster start from their own pre-bundled file instead (src/cli/launch.ts says why).
import { runCli } from './run-cli.js';

// esbuild turns this template into a map of every commands/*.ts module, each its own chunk.
runCli(process.argv, (entry) => import(`../../commands/${entry.name}.ts`));
