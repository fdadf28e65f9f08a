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
import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
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

// The tools that talk to a cluster, once more: one CommonJS file each, dist/cli/<command>.cjs, with
// no splitting (src/cli/launch.ts says why), and dist/cli/launch.cjs, which bin/kts.js requires and
// which picks the file. A tool's lazy imports stay lazy inside its file; packages (chalk, ora, yargs:
// ES modules only) stay import()s of node_modules.
// server-start too (issue 13, memory): the broker from the ES module build loads ~135 modules, and
// Node's ES module loader keeps a record per module and its path code runs hot enough to be optimized
// at start; from one CommonJS file the idle broker holds ~3 MB less (bench/RESULTS.md, memory).
const tools = readdirSync('commands')
  .filter((f) => f.endsWith('.ts') && /\bdefineTool\(/.test(readFileSync(`commands/${f}`, 'utf8')))
  .map((f) => f.slice(0, -3));
const bundles = [...tools, 'server-start'];
const toolEntries = {
  name: 'kts-tool-entries',
  setup(b) {
    b.onResolve({ filter: /^kts-tool:/ }, (a) => ({ path: a.path.slice('kts-tool:'.length), namespace: 'kts-tool' }));
    b.onLoad({ filter: /.*/, namespace: 'kts-tool' }, (a) => ({
      resolveDir: process.cwd(),
      loader: 'ts',
      contents: `import * as command from './commands/${a.path}.ts';\nimport { runBundledCommand } from './src/cli/tool-entry.ts';\nrunBundledCommand(${JSON.stringify(a.path)}, command);\n`,
    }));
  },
};
// Kafka's ~90 API schemas are ~190 KB of a tool's file, of which a tool sends a handful: each stays a
// file of its own, dist/cli/schemas/NN-name.cjs, required when the client first uses that API
// (protocol/generated/lazy.ts). They are plain data (their one import is a constant), so a copy per
// file shares nothing that needs one identity.
const GENERATED = resolve('src/protocol/generated');
const schemaFiles = readdirSync(GENERATED).filter((f) => /^\d\d-.*\.ts$/.test(f));
const schemasApart = {
  name: 'kts-schemas-apart',
  setup(b) {
    b.onResolve({ filter: /^\.{1,2}\/.*\d\d-[a-z0-9-]+\.js$/ }, (a) => {
      const file = resolve(a.resolveDir, a.path);
      if (dirname(file) !== GENERATED) return undefined;
      return { path: `./schemas/${basename(file, '.js')}.cjs`, external: true };
    });
    b.onResolve({ filter: /^\.\/schemas\/\d\d-[a-z0-9-]+\.cjs$/ }, (a) => ({ path: a.path, external: true }));
    // lazy.ts import()s them: in CommonJS that would start Node's ES module loader for one file.
    b.onLoad({ filter: /protocol\/generated\/lazy\.ts$/ }, (a) => ({
      loader: 'ts',
      contents: readFileSync(a.path, 'utf8').replace(/import\('\.\/(\d\d-[a-z0-9-]+)\.js'\)/g, (_, name) => `Promise.resolve().then(() => require('./schemas/${name}.cjs'))`),
    }));
  },
};
await build({
  entryPoints: schemaFiles.map((f) => `src/protocol/generated/${f}`),
  outdir: 'dist/cli/schemas',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
const cjsOptions = {
  outdir: 'dist/cli',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // import.meta does not exist in CommonJS: the file's own URL stands in (createRequire needs it).
  define: { 'import.meta.url': '__kts_file_url', KTS_TOOL_BUNDLES: JSON.stringify(bundles) },
  banner: { js: 'var __kts_file_url=require("node:url").pathToFileURL(__filename).href;' },
  // No source maps: 15 files of ~400 KB would ship ~14 MB of maps. Names are kept, so a stack trace
  // (KTS_DEBUG=1) still reads; the same code with maps is in the ES module build.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  metafile: true,
};
const bundled = await build({
  ...cjsOptions,
  entryPoints: { launch: 'src/cli/launch.ts', ...Object.fromEntries(tools.map((t) => [t, `kts-tool:${t}`])) },
  plugins: [toolEntries, schemasApart],
});
// The broker answers every API: its schemas stay inside its file (88 files of their own, each a
// CommonJS module of its own, cost the idle broker ~1.5 MB of heap).
await build({ ...cjsOptions, entryPoints: { 'server-start': 'kts-tool:server-start' }, plugins: [toolEntries] });
// A module that finds files next to itself (the console's page) would look in dist/cli/: keep it out.
for (const [file, out] of Object.entries(bundled.metafile.outputs)) {
  const strays = Object.keys(out.inputs).filter((i) => i.startsWith('src/console/'));
  if (strays.length) throw new Error(`${file} bundles ${strays.join(', ')}: a tool should not reach them`);
}

if (process.argv.includes('--types') || ['pack', 'publish'].includes(process.env.npm_command ?? '')) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', fileURLToPath(new URL('../tsconfig.types.json', import.meta.url))], { stdio: 'inherit' });
}
// The web console's page (kts console): plain HTML, JS and CSS, served from the package as they are.
cpSync(new URL('../src/console/page', import.meta.url), new URL('../dist/console', import.meta.url), { recursive: true });
