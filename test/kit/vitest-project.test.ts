// The README's vitest recipe, run as a user's project: test/kit/fixtures/vitest-project has a
// globalSetup that starts one in-memory broker and provide()s its address, a file that inject()s
// it, and a file with a broker of its own and an injected fault. It is copied to an empty directory
// with kts-kafka, kafkajs and vitest linked into its node_modules, and vitest runs it in its own
// process; its JSON report must show both tests passed.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/broker.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface VitestReport {
  success: boolean;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; status: string; message: string; assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
}

describe('the kit under vitest, as a project of its own', () => {
  it('runs a project whose globalSetup starts the broker, all green', async () => {
    const project = join(tempDir('kts-vitest-'), 'project');
    cpSync(join(import.meta.dirname, 'fixtures/vitest-project'), project, { recursive: true });
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(ROOT, join(project, 'node_modules/kts-kafka'), 'dir');
    for (const dep of ['kafkajs', 'vitest']) symlinkSync(join(ROOT, 'node_modules', dep), join(project, 'node_modules', dep), 'dir');
    // This vitest's own settings would leak into the child's (it reads VITEST* from the environment).
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'TEST' && k !== 'NODE_ENV'));

    const run = await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=json', '--outputFile=report.json'], { cwd: project, timeout: 180_000, env }).then(
      (r) => ({ code: 0, stderr: r.stderr }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    const report = JSON.parse(readFileSync(join(project, 'report.json'), 'utf8')) as VitestReport;
    const failures = report.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status !== 'passed').map((a) => `${a.title}: ${a.failureMessages.join('\n')}`));
    expect(failures, run.stderr).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
    expect(report.success).toBe(true);
    const passed = report.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'passed').map((a) => a.title)).sort();
    expect(passed).toEqual([
      'NOT_LEADER_OR_FOLLOWER once on Produce: kafkajs retries and the record is stored once',
      'the globalSetup broker stores what kafkajs produces',
    ]);
  });
});
