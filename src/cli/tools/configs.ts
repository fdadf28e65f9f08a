// The work of `kts configs` (Kafka's ConfigCommand, admin-client path) for topics, brokers, the
// broker default entity and broker loggers. Validation failures print just their message; other
// failures `Error while executing config command with args '<args>'` (kts adds the cause on the
// same line instead of a stack trace). Exit 1 either way.
import type { ConfigEntry, KafkaClient, ResourceTypeName } from '../../client/index.js';
import { bootstrapFrom, connect, readPropertiesFile } from '../connect.js';
import { CliError, UsageError, oneLine } from '../errors.js';
import type { ParsedArgs } from '../options.js';
import type { TableView, View } from '../output.js';
import type { ToolContext } from '../tool.js';

type EntityType = 'topics' | 'brokers' | 'broker-loggers';
const RESOURCE: Record<EntityType, ResourceTypeName> = { topics: 'topic', brokers: 'broker', 'broker-loggers': 'brokerLogger' };
/** The source of the entries listed without --all; null: every entry (broker loggers, as Kafka). */
const DYNAMIC_SOURCE: Record<EntityType, (name: string) => string | null> = {
  topics: () => 'DYNAMIC_TOPIC_CONFIG',
  brokers: (name) => (name === '' ? 'DYNAMIC_DEFAULT_BROKER_CONFIG' : 'DYNAMIC_BROKER_CONFIG'),
  'broker-loggers': () => null,
};
const UNSUPPORTED = ['clients', 'ips', 'client-metrics', 'groups'];
const SHORTHANDS: [option: string, type: string, isDefault: boolean][] = [
  ['topic', 'topics', false],
  ['broker', 'brokers', false],
  ['broker-defaults', 'brokers', true],
  ['broker-logger', 'broker-loggers', false],
  ['user', 'users', false],
  ['user-defaults', 'users', true],
  ['client', 'clients', false],
  ['client-defaults', 'clients', true],
  ['ip', 'ips', false],
  ['ip-defaults', 'ips', true],
];

/** Validation error: printed as the bare message, exit 1. */
class ConfigValidationError extends CliError {
  constructor(message: string) {
    super(message, { bare: true });
  }
}

export interface ConfigTarget {
  type: EntityType | 'users';
  /** undefined: every entity of the type; '' the default entity. */
  name: string | undefined;
}

export function resolveTarget(args: ParsedArgs): ConfigTarget {
  const actions = ['describe', 'alter'].filter((a) => args.has(a));
  if (actions.length !== 1) throw new UsageError('Command must include exactly one action: --describe, --alter');
  if (args.has('zookeeper')) throw new ConfigValidationError('--zookeeper is not supported by kts (ZooKeeper access to configs was removed in Kafka 4.0); use --bootstrap-server');
  const short = SHORTHANDS.filter(([o]) => args.has(o));
  const generic = args.has('entity-type') || args.has('entity-name') || args.has('entity-default');
  if (short.length > 0 && generic) {
    throw new UsageError('--entity-{type,name,default} should not be used in conjunction with specific entity flags');
  }
  let types: string[];
  let names: string[];
  let isDefault: boolean;
  if (short.length > 0) {
    types = [...new Set(short.map(([, t]) => t))];
    names = short.filter(([, , d]) => !d).map(([o]) => args.str(o)!);
    isDefault = short.some(([, , d]) => d);
  } else {
    types = args.all('entity-type').flatMap((t) => t.split(',')).map((t) => t.trim());
    names = args.all('entity-name');
    isDefault = args.has('entity-default');
  }
  if (types.length === 0) throw new UsageError('At least one entity type must be specified');
  const unsupported = types.find((t) => UNSUPPORTED.includes(t));
  if (unsupported) throw new ConfigValidationError(`kts does not support --entity-type ${unsupported} (quotas and client metrics are not implemented)`);
  const known = ['topics', 'brokers', 'broker-loggers', 'users'];
  const invalid = types.find((t) => !known.includes(t));
  // Kafka 3.9's text, a bare message (no usage), for a --bootstrap-server run.
  if (invalid) {
    throw new ConfigValidationError(
      `Invalid entity type ${invalid}, the entity type must be one of topics, clients, users, brokers, ips, broker-loggers, client-metrics with a --bootstrap-server or --bootstrap-controller argument`,
    );
  }
  if (types.length > 1) throw new UsageError(`Only one entity type may be specified, except users and clients: ${types.join(', ')}`);
  const type = types[0] as EntityType | 'users';
  if (type === 'users') {
    if (names.length > 1) throw new UsageError('Only one entity name may be specified');
    if (isDefault) throw new ConfigValidationError('kts does not support --entity-default for users (quotas are not implemented)');
    if (args.has('alter')) {
      if (names.length === 0) throw new ConfigValidationError('an entity name must be specified with --alter of users');
      if (!args.has('add-config') && !args.has('add-config-file') && !args.has('delete-config')) {
        throw new ConfigValidationError('At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter');
      }
    }
    return { type, name: names[0] };
  }
  if (names.length > 1) throw new UsageError('Only one entity name may be specified');
  if (names.length > 0 && isDefault) throw new UsageError('--entity-name and --entity-default cannot be used together');
  if (isDefault && type !== 'brokers') throw new UsageError(`--entity-default is not supported for ${type}`);
  const name = isDefault ? '' : names[0];
  if (name !== undefined && name !== '' && type !== 'topics' && !/^\d+$/.test(name)) {
    throw new ConfigValidationError(`The entity name for ${type} must be a valid integer broker id, but it is: ${name}`);
  }
  if (args.has('describe') && type === 'broker-loggers' && name === undefined) {
    throw new ConfigValidationError(`an entity name must be specified with --describe of ${type}`);
  }
  if (args.has('alter')) {
    if (name === undefined) throw new ConfigValidationError(`an entity name must be specified with --alter of ${type}`);
    if (!args.has('add-config') && !args.has('add-config-file') && !args.has('delete-config')) {
      throw new ConfigValidationError('At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter');
    }
    if (args.has('add-config') && args.has('add-config-file')) throw new ConfigValidationError('Only one of --add-config or --add-config-file must be specified');
  } else if (args.has('add-config') || args.has('add-config-file') || args.has('delete-config')) {
    throw new UsageError('--add-config, --add-config-file and --delete-config are only valid with --alter');
  }
  return { type, name };
}

/** `k1=v1,k2=[a,b],k3=` -> map; brackets protect commas and are dropped from values. */
export function parseAddConfig(text: string): Map<string, string> {
  const lookahead = '(?=[^\\]]*(?:\\[|$))';
  const pairs = text.split(new RegExp(`,${lookahead}`)).map((p) => p.split(new RegExp(`\\s*=\\s*${lookahead}`)));
  if (!pairs.every((p) => p.length === 2)) {
    throw new ConfigValidationError('Invalid entity config: all configs to be added must be in the format "key=val".');
  }
  return new Map(pairs.map(([k, v]) => [k.trim(), v.replace(/[[\]]/g, '').trim()]));
}

export function describeLines(type: EntityType, name: string, all: boolean, entries: ConfigEntry[]): string[] {
  const header = name === '' && type === 'brokers' ? `Default configs for ${type} in the cluster are:` : `${all ? 'All' : 'Dynamic'} configs for ${type.slice(0, -1)} ${name} are:`;
  const lines = [header];
  for (const e of entries) {
    const synonyms = e.synonyms.map((s) => `${s.source}:${s.name}=${s.value}`).join(', ');
    lines.push(`  ${e.name}=${e.isSensitive ? null : e.value} sensitive=${e.isSensitive} synonyms={${synonyms}}`);
  }
  return lines;
}

/** The terminal face of one entity's configs: NAME, VALUE, SOURCE; sensitive values hidden. */
export function configsTable(type: EntityType, name: string, all: boolean, entries: ConfigEntry[]): TableView {
  const title = name === '' && type === 'brokers' ? `Default configs for ${type} in the cluster` : `${all ? 'All' : 'Dynamic'} configs for ${type.slice(0, -1)} ${name}`;
  return {
    title,
    head: ['NAME', 'VALUE', 'SOURCE'],
    alignRight: [false, false, false],
    rows: entries.map((e) => [
      e.name,
      e.isSensitive ? { text: '(sensitive)', tone: 'dim' as const } : e.value === null ? { text: 'null', tone: 'dim' as const } : e.value,
      // Where the value comes from: a dynamic override stands out from the defaults.
      { text: e.source, tone: /^DYNAMIC_/.test(e.source) ? ('bold' as const) : ('dim' as const) },
    ]),
    empty: all ? 'No configs.' : 'No dynamic configs (every value is the default; --all lists them).',
  };
}

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  const target = resolveTarget(args);
  const props = args.has('command-config') ? await readPropertiesFile(args.str('command-config')!) : new Map<string, string>();
  const bootstrap = bootstrapFrom(args, ctx.env, 'bootstrap-controller');
  const client = await connect(ctx, bootstrap, props, 'kts-configs');
  try {
    if (target.type === 'users') {
      const { alterUsers, describeUsers } = await import('./configs-users.js');
      if (args.has('describe')) await describeUsers(client, target.name, ctx);
      else {
        const toAdd = args.has('add-config-file') ? await readPropertiesFile(args.str('add-config-file')!) : args.has('add-config') ? parseAddConfig(args.str('add-config')!) : new Map<string, string>();
        const toDelete = args.all('delete-config').flatMap((d) => d.split(',')).map((d) => d.trim()).filter((d) => d !== '');
        await alterUsers(client, target.name!, toAdd, toDelete, ctx);
      }
    } else if (args.has('describe')) await describe(client, target as ConfigTarget & { type: EntityType }, args.has('all'), ctx);
    else await alter(client, target as ConfigTarget & { name: string; type: EntityType }, args, ctx);
    return 0;
  } catch (err) {
    if (err instanceof CliError || err instanceof UsageError) throw err;
    const e = err as { javaString?: string };
    throw new CliError(`Error while executing config command with args '${args.tokens.join(' ')}': ${e.javaString ?? oneLine(err)}`, { bare: true });
  } finally {
    client.close();
  }
}

async function dynamicEntries(client: KafkaClient, type: EntityType, name: string, all: boolean, synonyms: boolean): Promise<ConfigEntry[]> {
  const [res] = await client.admin.describeConfigs([{ type: RESOURCE[type], name }], { includeSynonyms: synonyms });
  if (res.error) throw res.error;
  const source = DYNAMIC_SOURCE[type](name);
  return res.entries.filter((e) => all || source === null || e.source === source).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function describe(client: KafkaClient, target: ConfigTarget & { type: EntityType }, all: boolean, ctx: ToolContext): Promise<void> {
  let names: string[];
  if (target.name !== undefined) names = [target.name];
  else if (target.type === 'topics') names = (await client.admin.listTopics({ includeInternal: true })).map((t) => t.name);
  else names = [...(await client.admin.describeCluster()).brokers.map((b) => String(b.nodeId)).sort((a, b) => Number(a) - Number(b)), ...(target.type === 'brokers' ? [''] : [])];
  const lines: string[] = [];
  const entities: unknown[] = [];
  const tables: TableView[] = [];
  for (const name of names) {
    const entries = await ctx.out.spin('Describing configs', dynamicEntries(client, target.type, name, all, true));
    lines.push(...describeLines(target.type, name, all, entries));
    tables.push(configsTable(target.type, name, all, entries));
    entities.push({
      type: target.type,
      name,
      configs: entries.map((e) => ({ name: e.name, value: e.isSensitive ? null : e.value, source: e.source, sensitive: e.isSensitive, synonyms: e.synonyms })),
    });
  }
  const view: View = { plain: lines.map((l) => `${l}\n`).join(''), json: { entities }, tables };
  await ctx.out.print(view);
}

async function alter(client: KafkaClient, target: ConfigTarget & { name: string; type: EntityType }, args: ParsedArgs, ctx: ToolContext): Promise<void> {
  const toAdd = args.has('add-config-file')
    ? await readPropertiesFile(args.str('add-config-file')!)
    : args.has('add-config')
      ? parseAddConfig(args.str('add-config')!)
      : new Map<string, string>();
  const toDelete = args.all('delete-config').flatMap((d) => d.split(',')).map((d) => d.trim()).filter((d) => d !== '');
  const old = await dynamicEntries(client, target.type, target.name, false, false);
  if (target.type === 'broker-loggers') {
    // Kafka checks the names against the broker's loggers before asking it to change them.
    const unknown = [...toDelete, ...toAdd.keys()].filter((k) => !old.some((e) => e.name === k));
    if (unknown.length > 0) throw new ConfigValidationError(`Invalid broker logger(s): ${unknown.join(',')}`);
  }
  const invalid = toDelete.filter((k) => !old.some((e) => e.name === k));
  if (invalid.length > 0) throw new ConfigValidationError(`Invalid config(s): ${invalid.join(',')}`);
  if (toAdd.has('message.format.version')) {
    const warning = `WARNING: The configuration message.format.version=${toAdd.get('message.format.version')} is specified. This configuration will be ignored if the version is newer than the inter.broker.protocol.version specified in the broker or if the inter.broker.protocol.version is 3.0 or newer. This configuration is deprecated and it will be removed in Apache Kafka 4.0.`;
    // Kafka prints it on stdout; with --output json stdout holds only the document.
    if (ctx.out.mode === 'json') ctx.out.note(warning);
    else ctx.out.write(`${warning}\n`);
  }
  const resource = RESOURCE[target.type];
  const conn = await client.cluster.any();
  let results;
  if (target.type === 'brokers' && conn.supports(33 /* AlterConfigs */)) {
    // Kafka 3.9 replaces a broker's whole dynamic config (legacy AlterConfigs).
    const sensitive = old.filter((e) => e.value === null && !toAdd.has(e.name) && !toDelete.includes(e.name)).map((e) => e.name);
    if (sensitive.length > 0) {
      throw new ConfigValidationError(`All sensitive broker config entries must be specified for --alter, missing entries: Set(${sensitive.join(', ')})`);
    }
    const next: Record<string, string> = {};
    for (const e of old) if (e.value !== null) next[e.name] = e.value;
    for (const [k, v] of toAdd) next[k] = v;
    for (const k of toDelete) delete next[k];
    results = await client.admin.alterConfigs([{ type: resource, name: target.name, configs: next }]);
  } else {
    results = await client.admin.incrementalAlterConfigs([
      {
        type: resource,
        name: target.name,
        ops: [...[...toAdd].map(([name, value]) => ({ name, op: 'set' as const, value })), ...toDelete.map((name) => ({ name, op: 'delete' as const, value: '' }))],
      },
    ]);
  }
  const failed = results.find((r) => r.error);
  if (failed?.error) throw failed.error;
  const line =
    target.name === '' ? `Completed updating default config for ${target.type} in the cluster.` : `Completed updating config for ${target.type.slice(0, -1)} ${target.name}.`;
  await ctx.out.print({ plain: `${line}\n`, json: { type: target.type, name: target.name, set: Object.fromEntries(toAdd), deleted: toDelete } });
}
