// The API reference (`npm run docs`: TypeDoc over the package entry's types) builds without a
// warning and documents the kit's entry points from their doc comments.
// TypeDoc type-checks the whole program: 110 s of a 120 s timeout in a CI run at load 25-76, so the
// timeout only catches a hang.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/broker.js';
import { exitOf, spawnTracked } from '../helpers/processes.js';

describe('npm run docs', () => {
  it('generates the API reference with startBroker, startCluster and the helpers documented', { timeout: 600_000 }, async () => {
    const out = tempDir('kts-docs-');
    const child = spawnTracked('npm', ['run', 'docs', '--', '--out', out, '--treatWarningsAsErrors'], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const { code } = await exitOf(child);
    expect(output).not.toMatch(/\[warning\]|\[error\]/);
    expect(code).toBe(0);
    const page = (name: string) => readFileSync(join(out, 'functions', `${name}.html`), 'utf8');
    expect(page('startBroker')).toMatch(/plus\s+the kit(&#39;|')s defaults/);
    expect(page('startCluster')).toContain('A replicated cluster inside the calling process');
    expect(page('waitForGroupStable')).toContain('Stable');
    expect(readFileSync(join(out, 'interfaces', 'ClusterHandle.html'), 'utf8')).toContain('moveCoordinator');
    expect(readFileSync(join(out, 'variables', 'KIT_BROKER_DEFAULTS.html'), 'utf8')).toContain('What the kit sets unless');
  });
});
