// Shared by the tools that talk to a cluster: where the bootstrap list comes from, properties files
// and `k=v` options, and opening the client (lazily imported, with a spinner on a terminal).
//
// Unreachable cluster: Kafka's admin tools retry for default.api.timeout.ms (60 s) and then fail
// with "Timed out waiting for a node assignment". kts tries the bootstrap list for
// $KTS_CONNECT_TIMEOUT_MS (default 10000; `default.api.timeout.ms` from --command-config lowers it)
// and then fails with one line naming the address and what to check, exit 1. When every address
// refuses the connection (or does not resolve), it fails at once (src/client/cluster.ts).
//
// Without --bootstrap-server the address may come from a profile (profiles.ts): the target then
// carries the profile, and connect() puts its client settings under the tool's own properties.
import { readFile } from 'node:fs/promises';
import { parseProperties, type Properties } from '../config/properties.js';
import type { ClientOptions, KafkaClient } from '../client/index.js';
import { CliError, UsageError } from './errors.js';
import { splitAssignment, type ParsedArgs } from './options.js';
import type { ToolContext } from './tool.js';
import { activeProfile, type NamedProfile } from './profiles.js';

export const DEFAULT_BOOTSTRAP = 'localhost:9092';

/** Where a tool connects: the bootstrap list, and the profile it came from, if any. */
export interface Target {
  readonly bootstrap: string;
  readonly profile?: NamedProfile;
}

/**
 * --bootstrap-server (or the tool's deprecated alias, when given), else the profile $KTS_PROFILE
 * names, else $KTS_BOOTSTRAP_SERVER, else the current profile (`kts profile use`), else localhost:9092.
 */
export function bootstrapFrom(args: ParsedArgs, env: NodeJS.ProcessEnv, alias?: string): Target {
  const given = args.str('bootstrap-server') ?? (alias && args.has(alias) ? args.str(alias) : undefined);
  if (given !== undefined) return { bootstrap: given };
  return defaultTarget(env);
}

/** The cluster a tool reaches when it is given no address: $KTS_PROFILE's, $KTS_BOOTSTRAP_SERVER, the profile in use, localhost:9092. */
export function defaultTarget(env: NodeJS.ProcessEnv): Target {
  const profile = activeProfile(env);
  if (profile) return { bootstrap: profile.bootstrapServers, profile };
  return { bootstrap: env.KTS_BOOTSTRAP_SERVER || DEFAULT_BOOTSTRAP };
}

/** A profile's client settings: its command-config file, overlaid with its inline properties. */
export async function profileProperties(profile: NamedProfile): Promise<Properties> {
  const props = profile.commandConfig ? await readPropertiesFile(profile.commandConfig) : new Map<string, string>();
  for (const [k, v] of Object.entries(profile.properties ?? {})) props.set(k, v);
  return props;
}

/** Kafka's ToolsUtils.validatePortOrDie: every entry must be host:port. */
export function validateHostPorts(list: string): void {
  const entries = list.split(',').map((s) => s.trim());
  const ok = entries.length > 0 && entries.every((e) => /^(\[[^\]]+\]|[^:\s]+):\d+$/.test(e));
  if (!ok) throw new UsageError('Please provide valid host:port like host1:9091,host2:9092');
}

/** Reads a java.util.Properties file; a missing file is one clear line. */
export async function readPropertiesFile(path: string): Promise<Properties> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `${path} (No such file or directory)` : `Cannot read ${path}: ${(err as Error).message}`);
  }
  return parseProperties(text);
}

/** `--property k=v` style values into a map (split on the first `=`; no `=` means an empty value). */
export function keyValues(values: readonly string[]): Properties {
  const m: Properties = new Map();
  for (const v of values) {
    const [k, val] = splitAssignment(v);
    m.set(k.trim(), val);
  }
  return m;
}

/** File properties overlaid with command-line ones (the command line wins, as in Kafka). */
export async function mergedProperties(file: string | undefined, pairs: readonly string[]): Promise<Properties> {
  const props = file ? await readPropertiesFile(file) : new Map<string, string>();
  for (const [k, v] of keyValues(pairs)) props.set(k, v);
  return props;
}

function positiveInt(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  const n = Number(v.trim());
  return n > 0 ? n : undefined;
}

/**
 * Client options from Kafka client properties and the environment. The security settings' code
 * (TLS files, JAAS, SASL) is loaded only when security.protocol asks for more than PLAINTEXT.
 */
export async function clientOptions(props: Properties, env: NodeJS.ProcessEnv, clientId: string): Promise<ClientOptions> {
  const envBudget = positiveInt(env.KTS_CONNECT_TIMEOUT_MS);
  const apiTimeout = positiveInt(props.get('default.api.timeout.ms'));
  const bootstrapTimeoutMs = Math.min(envBudget ?? 10000, apiTimeout ?? Number.MAX_SAFE_INTEGER);
  return {
    clientId: props.get('client.id') ?? clientId,
    bootstrapTimeoutMs,
    connectTimeoutMs: Math.min(positiveInt(props.get('socket.connection.setup.timeout.max.ms')) ?? 5000, bootstrapTimeoutMs),
    requestTimeoutMs: positiveInt(props.get('request.timeout.ms')) ?? 30000,
    security: (props.get('security.protocol') ?? 'PLAINTEXT').trim().toUpperCase() === 'PLAINTEXT' ? undefined : (await import('./client-security.js')).clientSecurity(props),
  };
}

/** Opens a client (spinner on a terminal while it connects). The tool's properties win over a profile's. */
export async function connect(ctx: ToolContext, target: Target, props: Properties, clientId: string): Promise<KafkaClient> {
  const { KafkaClient } = await import('../client/index.js');
  let settings = props;
  if (target.profile) {
    settings = await profileProperties(target.profile);
    for (const [k, v] of props) settings.set(k, v);
  }
  try {
    return await ctx.out.spin(`Connecting to ${target.bootstrap}`, KafkaClient.connect(target.bootstrap, await clientOptions(settings, ctx.env, clientId)));
  } catch (err) {
    // An address nobody typed: say where it came from.
    if (target.profile && err instanceof Error) err.message = `${err.message} (the address of profile '${target.profile.name}': kts profile list)`;
    throw err;
  }
}

/** Java's regex full match (`String.matches`), compiled once. */
export function fullMatch(regex: string, what = 'regex'): RegExp {
  try {
    return new RegExp(`^(?:${regex})$`, 'u');
  } catch {
    try {
      return new RegExp(`^(?:${regex})$`);
    } catch {
      throw new CliError(`${regex} is an invalid ${what}.`);
    }
  }
}

/** Kafka's TopicFilter.IncludeList: commas become `|`, spaces and surrounding quotes go. */
export function includeList(raw: string): RegExp {
  const regex = raw.trim().replace(/,/g, '|').replace(/ /g, '').replace(/^["']+/, '').replace(/["']+$/, '');
  try {
    return new RegExp(`^(?:${regex})$`);
  } catch {
    throw new CliError(`${regex} is an invalid regex.`);
  }
}

export const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state']);
