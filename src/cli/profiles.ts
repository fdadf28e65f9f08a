// Named connection profiles (rpk's profiles, kcat's -F file): a bootstrap list plus the client
// settings a --command-config file would give (security.protocol, sasl.*, ssl.*), kept in one JSON
// file in the user's config directory so that `kts topics --list` reaches the right cluster with
// no options. Which one applies (connect.ts): --bootstrap-server given: none; else $KTS_PROFILE;
// else $KTS_BOOTSTRAP_SERVER (no profile); else the profile chosen with `kts profile use`.
//
// The file may hold passwords (sasl.jaas.config): it is written 0600 in a 0700 directory, by a
// rename so that a crash never leaves half a file. The CLI reads it synchronously: it is small,
// and this is a short-lived tool, never the broker's event loop.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './errors.js';

export interface Profile {
  /** host:port[,host:port] */
  bootstrapServers: string;
  /** An absolute path to a client properties file, read each time the profile is used. */
  commandConfig?: string;
  /** Client properties given inline (they win over the file's). */
  properties?: Record<string, string>;
}

export interface ProfileFile {
  /** The profile `kts profile use` chose. */
  current?: string;
  profiles: Record<string, Profile>;
}

export interface NamedProfile extends Profile {
  name: string;
}

/** $KTS_CONFIG_DIR, else $XDG_CONFIG_HOME/kts, else ~/.config/kts (%APPDATA%\kts on Windows). */
export function configDir(env: NodeJS.ProcessEnv): string {
  if (env.KTS_CONFIG_DIR) return env.KTS_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'kts');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'kts');
  return join(homedir(), '.config', 'kts');
}

export function profilesPath(env: NodeJS.ProcessEnv): string {
  return join(configDir(env), 'profiles.json');
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkProfileName(name: string): void {
  if (!NAME.test(name)) throw new CliError(`Invalid profile name '${name}': letters, digits, '.', '_' and '-' only (at most 64, starting with a letter or digit)`);
}

/** The profiles file as stored; no file is no profiles. A damaged one is one line naming it. */
export function readProfiles(env: NodeJS.ProcessEnv): ProfileFile {
  const path = profilesPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} };
    throw new CliError(`Cannot read the profiles file ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CliError(`The profiles file ${path} is not valid JSON (${(err as Error).message}); fix or remove it`);
  }
  const file = doc as ProfileFile;
  const valid =
    typeof doc === 'object' && doc !== null && typeof file.profiles === 'object' && file.profiles !== null &&
    (file.current === undefined || typeof file.current === 'string') &&
    Object.values(file.profiles).every((p) => typeof p === 'object' && p !== null && typeof p.bootstrapServers === 'string' &&
      (p.commandConfig === undefined || typeof p.commandConfig === 'string') &&
      (p.properties === undefined || (typeof p.properties === 'object' && p.properties !== null && Object.values(p.properties).every((v) => typeof v === 'string'))));
  if (!valid) throw new CliError(`The profiles file ${path} does not hold kts profiles ({"current", "profiles": {name: {"bootstrapServers", ...}}}); fix or remove it`);
  return { current: file.current, profiles: { ...file.profiles } };
}

export function writeProfiles(env: NodeJS.ProcessEnv, file: ProfileFile): void {
  const path = profilesPath(env);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, path);
  } catch (err) {
    throw new CliError(`Cannot write the profiles file ${path}: ${(err as Error).message}`);
  }
}

/**
 * The profile the tools use when no --bootstrap-server is given: $KTS_PROFILE's (which must
 * exist), else, unless $KTS_BOOTSTRAP_SERVER is set, the current one. Undefined: none.
 */
export function activeProfile(env: NodeJS.ProcessEnv): NamedProfile | undefined {
  const wanted = env.KTS_PROFILE;
  if (!wanted && env.KTS_BOOTSTRAP_SERVER) return undefined;
  const file = readProfiles(env);
  const name = wanted || file.current;
  if (!name) return undefined;
  return profileIn(file, name, wanted ? '$KTS_PROFILE names' : `${profilesPath(env)} chooses`);
}

/** The profile an option names (`kts migrate --to-profile prod`); one line when there is none. */
export function namedProfile(env: NodeJS.ProcessEnv, name: string, source: string): NamedProfile {
  return profileIn(readProfiles(env), name, source);
}

function profileIn(file: ProfileFile, name: string, source: string): NamedProfile {
  const profile = file.profiles[name];
  if (!profile) {
    const known = Object.keys(file.profiles).sort();
    throw new CliError(`${source} the profile '${name}', which does not exist (${known.length ? `profiles: ${known.join(', ')}` : 'no profiles: kts profile add creates one'})`);
  }
  return { name, ...profile };
}

/** Keys whose values are secrets: shown as [hidden] by `kts profile list`. */
export function isSecretKey(key: string): boolean {
  return /password|jaas|secret|\.key$|keystore\.key|token/i.test(key);
}
