// The package as users get it: `npm pack` (its prepare step: the bundle and the type declarations),
// the tarball installed in a fresh directory with its dependencies (from the npm cache when they are
// there, as after this checkout's `npm ci`), then a user's file that imports the package by name is
// type-checked with tsc --strict under module/moduleResolution nodenext (declarations checked too:
// skipLibCheck off) and run: an in-memory broker answers ApiVersions and records it.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/broker.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE = join(import.meta.dirname, 'fixtures/packed-consumer');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const typesNodeVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version;

/** Runs a command, failing with its output when it exits non-zero. */
async function sh(file: string, args: string[], cwd: string, timeout = 240_000): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, timeout, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: 'false' } });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

describe('the packed package', () => {
  const work = tempDir('kts-pack-');
  const app = join(work, 'app');
  let tarball = '';
  let packed: string[] = [];

  beforeAll(async () => {
    // npm pack runs the package's prepare step (a full build, which first removes dist/): in a copy
    // of what it reads, so this checkout's dist/ stays as the other tests use it.
    const source = join(work, 'source');
    mkdirSync(join(source, 'scripts'), { recursive: true });
    for (const entry of ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.types.json', 'bin', 'src', 'commands', 'scripts/build.mjs']) {
      cpSync(join(ROOT, entry), join(source, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
    const [info] = JSON.parse(await sh('npm', ['pack', '--json', '--pack-destination', work], source)) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, info.filename);
    packed = info.files.map((f) => f.path);

    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-consumer', private: true, type: 'module' }, null, 2));
    for (const file of ['index.ts', 'misuse.ts', 'tsconfig.json']) cpSync(join(FIXTURE, file), join(app, file));
    await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `@types/node@${typesNodeVersion}`], app);
  }, 600_000);

  it(`is named ${pkg.name} and ships the bundle, the binary and the declarations, not the sources`, () => {
    expect(pkg.name).toBe('kts-kafka');
    expect(packed).toContain('dist/index.js');
    expect(packed).toContain('dist/types/index.d.ts');
    expect(packed).toContain('dist/types/broker/embedded-cluster.d.ts');
    expect(packed).toContain('bin/kts.js');
    expect(packed.filter((p) => /^(src|test|scripts|commands)\//.test(p))).toEqual([]);
    expect(existsSync(join(app, 'node_modules', pkg.name, 'dist/types/index.d.ts'))).toBe(true);
  });

  it(`import { startBroker } from '${pkg.name}' type-checks under tsc --strict, nodenext, and runs`, async () => {
    // misuse.ts's @ts-expect-error lines fail the compile if the types are missing or loose.
    await sh(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
    const out = await sh(process.execPath, ['out/index.js'], app, 60_000);
    const line = out.trim().split('\n').pop()!;
    const result = JSON.parse(line) as { storage: string; errorCode: number; apiKeys: number; recorded: number };
    expect(result.storage).toBe('memory');
    expect(result.errorCode).toBe(0);
    expect(result.apiKeys).toBeGreaterThanOrEqual(30);
    expect(result.recorded).toBe(1);
    // tsc over the app and the package's declarations, then node: 4-5 s idle, 20 s in full run 28;
    // the helper allows tsc 240 s, and so does the test now (it was vitest's default 60 s).
  }, 240_000);

  it('fails to type-check a misuse (the declarations are not any)', async () => {
    writeFileSync(join(app, 'wrong.ts'), "import { startBroker } from 'kts-kafka';\nawait startBroker({ storage: 'disk' });\n");
    const failed = await run(process.execPath, [TSC, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', 'wrong.ts'], { cwd: app }).then(
      () => null,
      (err: { stdout: string }) => err.stdout,
    );
    expect(failed).toMatch(/wrong\.ts\(2,\d+\): error TS2322: Type '"disk"' is not assignable to type '"(memory|files)" \| "(files|memory)" \| undefined'/);
  }, 240_000); // one tsc run: 4.5-8 s idle, 26 s in full run 28

  it('installs the kts binary: the ES module build and a pre-bundled tool both start, by path and through npx', async () => {
    expect((await sh(join(app, 'node_modules/.bin/kts'), ['--version'], app)).trim()).toBe(pkg.version);
    expect(await sh(join(app, 'node_modules/.bin/kts'), ['topics', '--version'], app)).toBe('3.9.0\n');
    expect(await sh('npx', ['--no-install', 'kts', 'console-consumer', '--version'], app)).toBe('3.9.0\n');
    expect(packed).toContain('bin/package.json');
    expect(packed).toContain('dist/cli/topics.cjs');
    expect(packed).toContain('dist/cli/schemas/03-metadata.cjs');
  });
});
