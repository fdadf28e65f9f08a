// One process per data directory. Kafka holds an fcntl lock on `<log.dir>/.lock`; Node has no
// flock/fcntl, so kts writes its identity into `.lock` instead and judges a lock it finds:
//  - held while its owner runs: same boot (/proc/sys/kernel/random/boot_id), the pid alive and
//    started at the recorded time (field 22 of /proc/<pid>/stat), so a reused pid is not the owner;
//  - stale otherwise (kill -9, a power cut, or an empty `.lock` as Apache Kafka leaves behind), and
//    taken over: a claim file per stale inode lets one starter remove it, then all race to create it;
//  - a kernel lock on `.lock` (an Apache Kafka broker running on the dir) always counts as held.
// A refused start writes nothing into the directory. The lock goes on a clean close, and at exit.
// Known limit: a live owner in another pid namespace (a container sharing the volume) looks dead.
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, open, readFile, realpath, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const LOCK_FILE = '.lock';

export interface DirLock {
  readonly dir: string;
  readonly path: string;
  release(): Promise<void>;
}

interface LockLogger {
  warn(message: string): void;
}

interface Owner {
  pid: number;
  start: string;
  boot: string;
  kind: string;
}

/** Locks this process holds, by real path: a second lock on one of them is refused too. */
const held = new Map<string, { path: string; identity: string }>();
let exitHookInstalled = false;

export class DirLockedError extends Error {
  constructor(
    readonly dir: string,
    holder: string,
  ) {
    super(`Failed to acquire lock on file ${LOCK_FILE} in ${dir}. ${holder} is using this directory.`);
    this.name = 'DirLockedError';
  }
}

/** Locks every dir (creating missing ones) or none: on a refusal the ones taken are released. */
export async function lockDirs(dirs: string[], kind: string, logger: LockLogger): Promise<DirLock[]> {
  const locks: DirLock[] = [];
  try {
    for (const dir of dirs) locks.push(await lockDir(dir, kind, logger));
  } catch (err) {
    await Promise.allSettled(locks.map((l) => l.release()));
    throw err;
  }
  return locks;
}

export async function lockDir(dirGiven: string, kind: string, logger: LockLogger): Promise<DirLock> {
  const dir = resolve(dirGiven);
  await mkdir(dir, { recursive: true });
  const real = await realpath(dir);
  if (held.has(real)) throw new DirLockedError(dir, `A kts ${kind} in this process`);
  const path = join(dir, LOCK_FILE);
  // Reserved with no await since the check, so a concurrent lockDir of the same dir here is refused.
  held.set(real, { path, identity: '' });
  let identity = '';
  try {
    identity = await ownIdentity(kind);
    // Contention ends in milliseconds (a takeover is a few file operations); the bound is for a stuck disk.
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`Failed to acquire lock on file ${LOCK_FILE} in ${dir}: it kept changing hands for 10 s`);
      const found = await readLock(path);
      if (found !== null) {
        // Read before anything is written: a refused start leaves the directory as it was.
        const holder = await liveHolder(path, found.text);
        if (holder) throw new DirLockedError(dir, holder);
        if (!(await takeOverStaleLock(path, found, dir, identity))) continue;
        logger.warn(`Removed stale lock ${path} (${describeOwner(parseOwner(found.text))}, no longer running)`);
      }
      if (await createLock(path, identity)) break;
    }
  } catch (err) {
    held.delete(real);
    throw err;
  }
  held.set(real, { path, identity });
  installExitHook();
  let released = false;
  return {
    dir,
    path,
    async release() {
      if (released) return;
      released = true;
      held.delete(real);
      // Only our own file goes: a lock taken over from us (we were judged dead) is not ours to remove.
      if ((await readLock(path))?.text === identity) await unlink(path).catch(() => {});
    },
  };
}

/** Creates `.lock` with its content in one step (link of a written temp file); false if one exists. */
async function createLock(path: string, identity: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, identity, { flag: 'wx' });
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    // A file system without hard links: create-exclusive, then write (a reader may see it empty briefly).
    try {
      await writeFile(path, identity, { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/**
 * Removes a stale lock, racing other starters safely. Only the one that creates the claim file
 * `.lock.takeover-<inode>` may remove the lock file with that inode; it checks that `.lock` still is
 * that file with that content (inode numbers are reused, owners' identities are not), removes it and
 * its claim. Everyone then races for `.lock` with an exclusive create, which exactly one wins.
 * Returns false when the lock changed meanwhile or another starter is taking it over (look again).
 */
async function takeOverStaleLock(path: string, stale: LockFile, dir: string, identity: string): Promise<boolean> {
  const claim = `${path}.takeover-${stale.ino}`;
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, identity, { flag: 'wx' });
  let claimed = false;
  try {
    await link(tmp, claim);
    claimed = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
  if (!claimed) {
    const claimer = await readLock(claim);
    const owner = claimer && parseOwner(claimer.text);
    if (claimer === null || (owner && (await isRunning(owner)))) {
      // Another starter is removing it right now (or just did): look again shortly.
      await new Promise((r) => setTimeout(r, 10));
      return false;
    }
    // Its claimer died in the middle of a takeover (a kill -9 within a millisecond's window).
    throw new Error(
      `Failed to acquire lock on file ${LOCK_FILE} in ${dir}: its stale lock was being taken over by a process that died. ` +
        `Remove ${claim} (and ${path} if no kts runs on ${dir}) and start again`,
    );
  }
  try {
    const now = await readLock(path);
    if (now === null || now.ino !== stale.ino || now.text !== stale.text) return false;
    await unlink(path);
    return true;
  } finally {
    await unlink(claim).catch(() => {});
  }
}

interface LockFile {
  text: string;
  ino: bigint;
}

/** The lock file's content and inode, read through one descriptor so they belong together. */
async function readLock(path: string): Promise<LockFile | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const { ino } = await fh.stat({ bigint: true });
    return { text: await fh.readFile('utf8'), ino };
  } finally {
    await fh.close();
  }
}

/** Who holds the lock, in words, or undefined when nobody does (the file is stale). */
async function liveHolder(path: string, text: string): Promise<string | undefined> {
  const kernelHolder = await kernelLockHolder(path);
  if (kernelHolder !== undefined) return `Another process (pid ${kernelHolder}, holding a kernel lock on it: an Apache Kafka broker?)`;
  const owner = parseOwner(text);
  if (!owner || !(await isRunning(owner))) return undefined;
  return `A kts ${owner.kind} (pid ${owner.pid}) in another process`;
}

function parseOwner(text: string): Owner | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const pid = Number(fields.get('pid'));
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return { pid, start: fields.get('start') ?? '', boot: fields.get('boot') ?? '', kind: fields.get('owner') || 'process' };
}

function describeOwner(owner: Owner | undefined): string {
  return owner ? `held by ${owner.kind} pid ${owner.pid}` : 'empty or not written by kts';
}

async function isRunning(owner: Owner): Promise<boolean> {
  const boot = await bootId();
  // Another boot id: the machine restarted since (or the dir is shared with another machine, which kts cannot judge).
  if (owner.boot && boot && owner.boot !== boot) return false;
  const start = await startTimeOf(owner.pid);
  if (start === null) return false;
  if (start !== undefined) return !owner.start || owner.start === start;
  return pidRuns(owner.pid); // no /proc
}

/** A signal-0 probe: true while a process with this pid runs (EPERM: it runs under another user). */
export function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Start time of a process in clock ticks since boot; null if it does not run, undefined without /proc. */
async function startTimeOf(pid: number): Promise<string | null | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return (await procMounted()) ? null : undefined;
    return undefined;
  }
  // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? undefined;
}

let procChecked: Promise<boolean> | undefined;
function procMounted(): Promise<boolean> {
  procChecked ??= stat('/proc/self/stat').then(
    () => true,
    () => false,
  );
  return procChecked;
}

let bootIdRead: Promise<string> | undefined;
function bootId(): Promise<string> {
  bootIdRead ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (s) => s.trim(),
    () => '',
  );
  return bootIdRead;
}

async function ownIdentity(kind: string): Promise<string> {
  const start = (await startTimeOf(process.pid)) ?? '';
  return `pid=${process.pid}\nstart=${start}\nboot=${await bootId()}\nowner=${kind}\n`;
}

/**
 * The pid holding an fcntl/flock lock on the file, from /proc/locks (where Apache Kafka's lock on
 * its `.lock` shows), or undefined.
 */
async function kernelLockHolder(path: string): Promise<number | undefined> {
  let locks: string;
  let st: { dev: bigint; ino: bigint };
  try {
    st = await stat(path, { bigint: true });
    locks = await readFile('/proc/locks', 'utf8');
  } catch {
    return undefined;
  }
  const major = ((st.dev >> 8n) & 0xfffn) | ((st.dev >> 32n) & ~0xfffn);
  const minor = (st.dev & 0xffn) | ((st.dev >> 12n) & ~0xffn);
  const id = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`;
  for (const line of locks.split('\n')) {
    // "1: POSIX  ADVISORY  WRITE 1234 08:02:131090 0 EOF"; waiters have "->" after the id.
    const fields = line.replace('->', '').trim().split(/\s+/);
    if (fields[5] === id) return Number(fields[4]);
  }
  return undefined;
}

/** A process that ends without closing (process.exit on a fatal error) still removes its locks. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const { path, identity } of held.values()) {
      try {
        if (identity && readFileSync(path, 'utf8') === identity) unlinkSync(path);
      } catch {
        // gone already
      }
    }
  });
}
