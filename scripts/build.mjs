// Bundles the CLI and the library with esbuild. Code splitting keeps each subcommand in its own
// chunk so that `kts <command>` loads only what that command needs (start-up time matters for CLIs).
// Whitespace and syntax are minified (names are kept, so stack traces still read): V8 scans every
// byte of a module before running it, and ~20% less to scan is ~10% off a broker's start.
//
// The package's type declarations (dist/types, the library entry and what its types reach) take tsc
// ~10 s of CPU, so they are built only for a package: `npm pack` / `npm publish` (whose prepare step
// runs this script), or `node scripts/build.mjs --types`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { main: 'src/cli/main.ts', index: 'src/index.ts', streams: 'src/streams/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  minifyWhitespace: true,
  minifySyntax: true,
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});

if (process.argv.includes('--types') || ['pack', 'publish'].includes(process.env.npm_command ?? '')) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', fileURLToPath(new URL('../tsconfig.types.json', import.meta.url))], { stdio: 'inherit' });
}
// The web console's page (kts console): plain HTML, JS and CSS, served from the package as they are.
cpSync(new URL('../src/console/page', import.meta.url), new URL('../dist/console', import.meta.url), { recursive: true });
