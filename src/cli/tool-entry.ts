// The body of each pre-bundled tool file (dist/cli/<command>.cjs, see launch.ts): the build gives it
// the one command module the file holds.
import type { CommandEntry } from './command-index.js';
import { runCli } from './run-cli.js';

export function runBundledCommand(name: string, command: unknown): void {
  runCli(process.argv, async (entry: CommandEntry) => {
    // launch.ts only sends this file its own command; anything else is "not available".
    if (entry.name !== name) throw new Error(`Cannot find module for '${entry.name}'`);
    return command;
  });
}
