// The kit under jest: test/kit/fixtures/jest-project is a user's project (ES modules, jest's
// globalSetup starting one in-memory broker for the run, a file with a broker of its own and fault
// injection, a file with startCluster). It is copied to an empty directory with `kts-kafka` and
// kafkajs linked into its node_modules, and jest (this repo's devDependency) runs it; its JSON
// report must show every test passed.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/broker.js';

const ROOT = resolve(import.meta.dirname, '../..');
const JEST = join(ROOT, 'node_modules/jest/bin/jest.js');

interface JestReport {
  success: boolean;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; status: string; message: string; assertionResults: { title: string; status: string }[] }[];
}

describe('the kit under jest', () => {
  it('runs a project with a globalSetup broker, fault injection and a 3-broker cluster, all green', async () => {
    const project = join(tempDir('kts-jest-'), 'project');
    cpSync(join(import.meta.dirname, 'fixtures/jest-project'), project, { recursive: true });
    mkdirSync(join(project, 'node_modules'));
    // As after `npm install kts-kafka kafkajs`: the package by its name (this checkout, built).
    symlinkSync(ROOT, join(project, 'node_modules/kts-kafka'), 'dir');
    symlinkSync(join(ROOT, 'node_modules/kafkajs'), join(project, 'node_modules/kafkajs'), 'dir');

    const started = Date.now();
    const run = await promisify(execFile)(process.execPath, [JEST, '--ci', '--json', '--outputFile=report.json', `--cacheDirectory=${join(project, '.jest-cache')}`], {
      cwd: project,
      timeout: 180_000,
      env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim() },
    }).then(
      (r) => ({ code: 0, stderr: r.stderr }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    console.log(`jest ran the project in ${Date.now() - started} ms`);
    const report = JSON.parse(readFileSync(join(project, 'report.json'), 'utf8')) as JestReport;
    const failures = report.testResults.filter((f) => f.status !== 'passed').map((f) => `${f.name}: ${f.message}`);
    expect(failures, run.stderr).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
    expect(report.success).toBe(true);
    const passed = report.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'passed').map((a) => a.title)).sort();
    expect(passed).toEqual([
      'NOT_LEADER_OR_FOLLOWER twice on Produce: kafkajs retries and the third is stored',
      'acks=all to an RF=3 topic, before and after broker 2 stops',
      'the globalSetup broker serves a produce and a group consume',
    ]);
    expect(report.numFailedTests).toBe(0);
  });
});
