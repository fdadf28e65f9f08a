// The work of `kts profile`: add, list, use and remove the profiles in profiles.ts. Settings are
// checked when a profile is added (the address list, the command-config file, the security
// properties), so a mistake shows up then rather than at the next tool's run.
import { isAbsolute, resolve } from 'node:path';
import { clientSecurity } from '../client-security.js';
import { keyValues, readPropertiesFile, validateHostPorts } from '../connect.js';
import { CliError, UsageError } from '../errors.js';
import type { ParsedArgs } from '../options.js';
import type { View } from '../output.js';
import { checkProfileName, isSecretKey, profilesPath, readProfiles, writeProfiles, type Profile, type ProfileFile } from '../profiles.js';
import { didYouMean } from '../suggest.js';
import type { ToolContext } from '../tool.js';

export const PROFILE_COMMANDS = ['add', 'create', 'list', 'use', 'remove', 'delete'];
/** The options each command takes (anything else is refused, as Kafka's tools refuse a stray option). */
const ALLOWED: Record<string, string[]> = {
  add: ['bootstrap-server', 'command-config', 'property', 'use', 'replace'],
  list: [],
  use: ['none'],
  remove: [],
};

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  const [word, ...rest] = args.positional;
  if (word === undefined) throw new UsageError(`kts profile needs a command: ${['add', 'list', 'use', 'remove'].join(', ')}`);
  if (!PROFILE_COMMANDS.includes(word)) throw new UsageError(`'${word}' is not a kts profile command (add, list, use, remove).`, didYouMean(word, PROFILE_COMMANDS));
  const command = word === 'create' ? 'add' : word === 'delete' ? 'remove' : word;
  for (const given of args.present()) {
    if (given !== 'output' && !ALLOWED[command].includes(given)) throw new UsageError(`Option --${given} is not valid with 'kts profile ${command}'`);
  }
  const takesName = command !== 'list' && !(command === 'use' && args.has('none'));
  if (takesName && rest.length !== 1) throw new UsageError(`kts profile ${command} takes one profile name${rest.length > 1 ? `, not ${rest.length}` : ''}`);
  if (!takesName && rest.length > 0) throw new UsageError(`Unexpected argument '${rest[0]}' for 'kts profile ${command}${args.has('none') ? ' --none' : ''}'`);
  const name = rest[0];
  if (name !== undefined) checkProfileName(name);
  const file = readProfiles(ctx.env);
  switch (command) {
    case 'add':
      return add(args, ctx, file, name);
    case 'use':
      return use(args, ctx, file, name);
    case 'remove':
      return remove(ctx, file, name);
    default:
      await ctx.out.print(listView(file, ctx.env));
      return 0;
  }
}

function missing(file: ProfileFile, name: string): CliError {
  const known = Object.keys(file.profiles).sort();
  const hint = didYouMean(name, known);
  return new CliError(`No profile named '${name}' (${known.length ? `profiles: ${known.join(', ')}` : 'none yet: kts profile add creates one'}).${hint ? ` ${hint}` : ''}`);
}

async function add(args: ParsedArgs, ctx: ToolContext, file: ProfileFile, name: string): Promise<number> {
  const bootstrap = args.str('bootstrap-server');
  if (bootstrap === undefined) throw new UsageError('Missing required argument "[bootstrap-server]"');
  validateHostPorts(bootstrap);
  if (file.profiles[name] && !args.has('replace')) throw new CliError(`A profile named '${name}' exists (${file.profiles[name].bootstrapServers}); give --replace to replace it, or remove it first`);
  const profile: Profile = { bootstrapServers: bootstrap };
  const configFile = args.str('command-config');
  const settings = new Map<string, string>();
  if (configFile !== undefined) {
    profile.commandConfig = isAbsolute(configFile) ? configFile : resolve(configFile);
    for (const [k, v] of await readPropertiesFile(profile.commandConfig)) settings.set(k, v);
  }
  const inline = keyValues(args.all('property'));
  if (inline.size > 0) profile.properties = Object.fromEntries(inline);
  for (const [k, v] of inline) settings.set(k, v);
  // Refuses what a tool would refuse later: an unknown protocol or mechanism, a missing key file.
  clientSecurity(settings);
  file.profiles[name] = profile;
  if (args.has('use')) file.current = name;
  writeProfiles(ctx.env, file);
  const using = file.current === name;
  const plain = `Created profile ${name} (${bootstrap}).${using ? ` The tools now use it when given no --bootstrap-server.` : ` Run 'kts profile use ${name}' to make the tools use it.`}\n`;
  await ctx.out.print({ plain, json: { profile: name, current: file.current ?? null }, done: plain.trimEnd() });
  return 0;
}

async function use(args: ParsedArgs, ctx: ToolContext, file: ProfileFile, name: string | undefined): Promise<number> {
  if (name === undefined) {
    file.current = undefined;
    writeProfiles(ctx.env, file);
    const plain = `No profile in use: the tools reach ${ctx.env.KTS_BOOTSTRAP_SERVER || 'localhost:9092'} when given no --bootstrap-server.\n`;
    await ctx.out.print({ plain, json: { profile: null, current: null }, done: plain.trimEnd() });
    return 0;
  }
  const profile = file.profiles[name];
  if (!profile) throw missing(file, name);
  file.current = name;
  writeProfiles(ctx.env, file);
  const plain = `Using profile ${name} (${profile.bootstrapServers}) when no --bootstrap-server is given.\n`;
  await ctx.out.print({ plain, json: { profile: name, current: name }, done: plain.trimEnd() });
  if (ctx.env.KTS_PROFILE && ctx.env.KTS_PROFILE !== name) ctx.out.note(`Note: $KTS_PROFILE=${ctx.env.KTS_PROFILE} is set and wins in this shell.`);
  else if (!ctx.env.KTS_PROFILE && ctx.env.KTS_BOOTSTRAP_SERVER) ctx.out.note(`Note: $KTS_BOOTSTRAP_SERVER=${ctx.env.KTS_BOOTSTRAP_SERVER} is set and wins in this shell.`);
  return 0;
}

async function remove(ctx: ToolContext, file: ProfileFile, name: string): Promise<number> {
  if (!file.profiles[name]) throw missing(file, name);
  delete file.profiles[name];
  const wasCurrent = file.current === name;
  if (wasCurrent) file.current = undefined;
  writeProfiles(ctx.env, file);
  const plain = `Removed profile ${name}.${wasCurrent ? ' No profile is in use now.' : ''}\n`;
  await ctx.out.print({ plain, json: { profile: name, current: file.current ?? null }, done: plain.trimEnd() });
  return 0;
}

function security(p: Profile): string {
  const props = p.properties ?? {};
  const protocol = props['security.protocol'] ?? (p.commandConfig ? 'file' : 'PLAINTEXT');
  const mechanism = props['sasl.mechanism'];
  return mechanism ? `${protocol} ${mechanism}` : protocol;
}

export function listView(file: ProfileFile, env: NodeJS.ProcessEnv): View {
  const names = Object.keys(file.profiles).sort();
  const rows = names.map((n) => {
    const p = file.profiles[n];
    return [n === file.current ? '*' : ' ', n, p.bootstrapServers, security(p), p.commandConfig ?? '-'];
  });
  const head = [' ', 'NAME', 'BOOTSTRAP SERVERS', 'SECURITY', 'COMMAND CONFIG'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const plain = names.length === 0 ? '' : [head, ...rows].map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}\n`).join('');
  const json = {
    current: file.current ?? null,
    profiles: names.map((n) => {
      const p = file.profiles[n];
      const properties = Object.fromEntries(Object.entries(p.properties ?? {}).map(([k, v]) => [k, isSecretKey(k) ? '[hidden]' : v]));
      return { name: n, current: n === file.current, bootstrapServers: p.bootstrapServers, commandConfig: p.commandConfig ?? null, properties };
    }),
  };
  const overridden = env.KTS_PROFILE ? ` ($KTS_PROFILE=${env.KTS_PROFILE} wins in this shell)` : '';
  return {
    plain,
    json,
    tables: [
      {
        title: `Profiles in ${profilesPath(env)}${overridden}`,
        head: ['', 'NAME', 'BOOTSTRAP SERVERS', 'SECURITY', 'COMMAND CONFIG'],
        rows: rows.map((r) => [r[0] === '*' ? { text: '*', tone: 'good' as const } : '', r[0] === '*' ? { text: r[1], tone: 'bold' as const } : r[1], r[2], r[3], r[4]]),
        empty: "No profiles yet: kts profile add <name> --bootstrap-server host:port creates one.",
      },
    ],
  };
}
