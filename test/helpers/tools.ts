// Interop tools from Debian (kcat, zkCli.sh, java). Locally a missing tool skips its tests; in CI
// (KTS_REQUIRE_INTEROP=1) it fails them, so a green CI run always means the peers really ran.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const interopRequired = process.env.KTS_REQUIRE_INTEROP === '1';

export function findTool(name: string, candidates: string[] = []): string | null {
  for (const c of candidates) if (existsSync(c)) return c;
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** The tool's path; null means "skip" (only allowed when interop is not required). */
export function requireTool(name: string, candidates: string[] = []): string | null {
  const path = findTool(name, candidates);
  if (!path && interopRequired) throw new Error(`${name} is required (KTS_REQUIRE_INTEROP=1) but not installed`);
  return path;
}

export const kcatPath = () => requireTool('kcat', ['/usr/bin/kcat']);
