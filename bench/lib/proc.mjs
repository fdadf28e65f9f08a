// Process helpers for the bench: spawn and time, /proc CPU and RSS, medians, percentiles.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLK_TCK = 100; // Linux USER_HZ

/** utime+stime of a process in seconds (0 when it is gone). */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of stat(5)
  } catch {
    return 0;
  }
}

/** VmRSS in MB (0 when gone). */
export function rssMB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the RSS of `pid` every `everyMs` until stop() is called; returns the peak in MB. */
export function rssSampler(pid, everyMs = 50) {
  let peak = rssMB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMB(pid))), everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssMB(pid));
      return peak;
    },
  };
}

/**
 * Runs a command to completion. stdin: a file path string to pipe from ('ignore' by default) or a
 * function (child.stdin) => void. Counts stdout bytes and newlines unless keepStdout.
 * Resolves { code, wallMs, bytes, lines, stdout, stderr, stderrMatches, timedOut }; kills it after
 * timeoutMs (its whole process group with group: true). stderr keeps the first stderrLimit (20,000) characters;
 * countStderr (a RegExp) counts the matching lines of all of it (stderrMatches).
 */
export function run(cmd, args, opts = {}) {
  const { timeoutMs = 120_000, feed, env, keepStdout = false, group = false, onSpawn, countStderr, stderrLimit = 20_000 } = opts;
  return new Promise((resolve) => {
    const t0 = performance.now();
    // group: the child leads its own process group, and a timeout kills the whole group (a harness
    // script's servers, e.g. a JVM, must not outlive it).
    const child = spawn(cmd, args, { stdio: [feed ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: env ?? process.env, detached: group });
    onSpawn?.(child);
    let bytes = 0;
    let lines = 0;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      bytes += d.length;
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
      if (keepStdout) stdout += d;
    });
    let stderrMatches = 0;
    let stderrTail = '';
    child.stderr.on('data', (d) => {
      if (stderr.length < stderrLimit) stderr += d;
      if (countStderr) {
        const text = stderrTail + d;
        const lines = text.split('\n');
        stderrTail = lines.pop();
        for (const l of lines) if (countStderr.test(l)) stderrMatches++;
      }
    });
    if (feed) {
      child.stdin.on('error', () => {});
      feed(child.stdin);
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (group) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, wallMs: performance.now() - t0, bytes, lines, stdout, stderr: String(err), timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (countStderr && countStderr.test(stderrTail)) stderrMatches++;
      resolve({ code, wallMs: performance.now() - t0, bytes, lines, stdout, stderr, stderrMatches, timedOut, pid: child.pid });
    });
  });
}

export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function percentile(xs, p) {
  const v = [...xs].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A 95% bootstrap interval of median(a) / median(b): both samples resampled with replacement
 * `iterations` times (a fixed seed, so a run's figures can be reproduced from its samples).
 */
export function medianRatioInterval(a, b, iterations = 2000) {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  const resample = (xs) => xs.map(() => xs[Math.floor(rnd() * xs.length)]);
  const ratios = [];
  for (let i = 0; i < iterations; i++) ratios.push(median(resample(a)) / median(resample(b)));
  return [percentile(ratios, 2.5), percentile(ratios, 97.5)];
}

/** Mean and the half-width of its 95% interval (normal approximation). */
export function meanInterval(xs) {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, half: (1.96 * sd) / Math.sqrt(n) };
}
