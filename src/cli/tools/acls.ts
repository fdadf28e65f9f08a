// The work of `kts acls` (Kafka's AclCommand): --add, --remove and --list through CreateAcls,
// DeleteAcls and DescribeAcls, with Kafka's option checks, messages and exit codes. Kafka prints
// resources and entries from Java hash sets, whose order changes from run to run; kts prints them
// sorted (resource type, pattern type, name; then principal, host, operation, permission).
import { bootstrapFrom, connect, readPropertiesFile } from '../connect.js';
import { CliError, UsageError } from '../errors.js';
import { rejectCombination, type ParsedArgs } from '../options.js';
import type { ToolContext } from '../tool.js';
import type { AclEntry, AclFilter } from '../../client/admin.js';
import {
  AclOperation,
  AclPermission,
  CLUSTER_NAME,
  PatternType,
  ResourceType,
  SUPPORTED_OPERATIONS,
  operationName,
  parseOperation,
  patternTypeName,
  permissionName,
  resourceTypeName,
} from '../../broker/auth/acl.js';

const NL = '\n';
const RUNTIME_PREFIX = 'Error while executing ACL command: ';

interface Pattern {
  resourceType: number;
  name: string;
  patternType: number;
}

interface Entry {
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

const patternText = (p: { resourceType: number; name: string | null; patternType: number }) =>
  `ResourcePattern(resourceType=${resourceTypeName(p.resourceType)}, name=${p.name ?? '<any>'}, patternType=${patternTypeName(p.patternType)})`;
const entryText = (e: Entry) => `(principal=${e.principal}, host=${e.host}, operation=${operationName(e.operation)}, permissionType=${permissionName(e.permissionType)})`;
const bindingText = (p: Pattern, e: Entry) => `(pattern=${patternText(p)}, entry=${entryText(e)})`;
const patternKey = (p: Pattern) => JSON.stringify([p.resourceType, p.patternType, p.name]);
const entryKey = (e: Entry) => JSON.stringify([e.principal, e.host, e.operation, e.permissionType]);

function comparePatterns(a: Pattern, b: Pattern): number {
  return a.resourceType - b.resourceType || a.patternType - b.patternType || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
function compareEntries(a: Entry, b: Entry): number {
  const text = (e: Entry) => [e.principal, e.host].join('\0');
  return text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : a.operation - b.operation || a.permissionType - b.permissionType;
}

/** A failure Kafka's tool reports from inside its main: its message line, then the exception's lines. */
class AclCommandError extends Error {
  constructor(
    message: string,
    readonly javaLines: string[],
  ) {
    super(message);
  }
}

/** Kafka's SecurityUtils.parseKafkaPrincipal. */
function parsePrincipal(text: string): string {
  const s = text.trim();
  const colon = s.indexOf(':');
  if (s === '' || colon < 0) {
    const message = `expected a string in format principalType:principalName but got ${s}`;
    throw new AclCommandError(message, [`java.lang.IllegalArgumentException: ${message}`]);
  }
  return s;
}

/** The --resource-pattern-type value, as Kafka's PatternTypeConverter (case-insensitive enum names). */
function patternTypeOf(args: ParsedArgs): number {
  const raw = args.str('resource-pattern-type') ?? 'LITERAL';
  const code = { ANY: PatternType.ANY, MATCH: PatternType.MATCH, LITERAL: PatternType.LITERAL, PREFIXED: PatternType.PREFIXED }[raw.toUpperCase() as 'ANY'];
  if (code === undefined) {
    const message = `Cannot parse argument '${raw}' of option resource-pattern-type`;
    throw new AclCommandError(message, [
      `joptsimple.OptionArgumentConversionException: ${message}`,
      `Caused by: joptsimple.ValueConversionException: Value [${raw}] is not one of [ANY|MATCH|LITERAL|PREFIXED]`,
    ]);
  }
  return code;
}

function checkArgs(args: ParsedArgs): void {
  if (args.has('bootstrap-server') && args.has('bootstrap-controller')) throw new UsageError('Only one of --bootstrap-server or --bootstrap-controller must be specified');
  if (['add', 'remove', 'list'].filter((o) => args.has(o)).length !== 1) throw new UsageError('Command must include exactly one action: --list, --add, --remove. ');
  rejectCombination(args, 'list', ['producer', 'consumer', 'allow-host', 'allow-principal', 'deny-host', 'deny-principal']);
  rejectCombination(args, 'producer', ['operation', 'deny-principal', 'deny-host']);
  rejectCombination(args, 'consumer', ['operation', 'deny-principal', 'deny-host']);
  if (args.has('principal') && !args.has('list')) throw new UsageError('The --principal option is only available if --list is set');
  if (args.has('producer') && !args.has('topic')) throw new UsageError('With --producer you must specify a --topic');
  if (args.has('idempotent') && !args.has('producer')) throw new UsageError('The --idempotent option is only available if --producer is set');
  if (args.has('consumer') && (!args.has('topic') || !args.has('group') || (!args.has('producer') && (args.has('cluster') || args.has('transactional-id'))))) {
    throw new UsageError('With --consumer you must specify a --topic and a --group and no --cluster or --transactional-id option should be specified.');
  }
}

/** The resource patterns (filters) the options name; Kafka's getResourceFilter. */
function resourcePatterns(args: ParsedArgs, patternType: number, dieIfNone: boolean): Pattern[] {
  const out = new Map<string, Pattern>();
  const add = (resourceType: number, name: string) => {
    const p = { resourceType, name, patternType };
    out.set(patternKey(p), p);
  };
  for (const t of args.all('topic')) add(ResourceType.TOPIC, t.trim());
  if (patternType === PatternType.LITERAL && (args.has('cluster') || args.has('idempotent'))) add(ResourceType.CLUSTER, CLUSTER_NAME);
  for (const g of args.all('group')) add(ResourceType.GROUP, g.trim());
  for (const id of args.all('transactional-id')) add(ResourceType.TRANSACTIONAL_ID, id);
  for (const t of args.all('delegation-token')) add(ResourceType.DELEGATION_TOKEN, t.trim());
  for (const u of args.all('user-principal')) add(ResourceType.USER, u.trim());
  if (out.size === 0 && dieIfNone) throw new UsageError('You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --delegation-token <Delegation Token ID>');
  return [...out.values()];
}

const hostsOf = (args: ParsedArgs, hostOption: string, principalOption: string): string[] =>
  args.has(hostOption) ? [...new Set(args.all(hostOption).map((h) => h.trim()))] : args.has(principalOption) ? ['*'] : [];

/** Kafka's getAcl: every allowed and denied principal × operation × host. */
function entriesFor(args: ParsedArgs, operations: number[]): Entry[] {
  const allowed = [...new Set(args.all('allow-principal').map(parsePrincipal))];
  const denied = [...new Set(args.all('deny-principal').map(parsePrincipal))];
  const out = new Map<string, Entry>();
  const add = (principals: string[], permissionType: number, hosts: string[]) => {
    for (const principal of principals) for (const operation of operations) for (const host of hosts) {
      const e = { principal, host, operation, permissionType };
      out.set(entryKey(e), e);
    }
  };
  const allowedHosts = hostsOf(args, 'allow-host', 'allow-principal');
  const deniedHosts = hostsOf(args, 'deny-host', 'deny-principal');
  if (allowedHosts.length > 0 && allowed.length > 0) add(allowed, AclPermission.ALLOW, allowedHosts);
  if (deniedHosts.length > 0 && denied.length > 0) add(denied, AclPermission.DENY, deniedHosts);
  return [...out.values()];
}

/** Kafka's getResourceFilterToAcls: the --producer / --consumer conveniences, or the options as given. */
function patternsToEntries(args: ParsedArgs, patternType: number): Map<string, { pattern: Pattern; entries: Entry[] }> {
  const result = new Map<string, { pattern: Pattern; entries: Entry[] }>();
  const put = (pattern: Pattern, entries: Entry[], merge = false) => {
    const key = patternKey(pattern);
    const existing = result.get(key);
    if (merge && existing) {
      const seen = new Set(existing.entries.map(entryKey));
      existing.entries.push(...entries.filter((e) => !seen.has(entryKey(e))));
    } else result.set(key, { pattern, entries });
  };
  if (!args.has('producer') && !args.has('consumer')) {
    const operations = [...new Set(args.all('operation').map((o) => parseOperation(o.trim()) ?? AclOperation.UNKNOWN))];
    const entries = entriesFor(args, operations.length > 0 ? operations : [AclOperation.ALL]);
    for (const p of resourcePatterns(args, patternType, true)) put(p, entries);
  }
  if (args.has('producer')) {
    const patterns = resourcePatterns(args, patternType, true);
    for (const p of patterns.filter((p) => p.resourceType === ResourceType.TOPIC)) put(p, entriesFor(args, [AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE]));
    for (const p of patterns.filter((p) => p.resourceType === ResourceType.TRANSACTIONAL_ID)) put(p, entriesFor(args, [AclOperation.WRITE, AclOperation.DESCRIBE]));
    if (args.has('idempotent')) put({ resourceType: ResourceType.CLUSTER, name: CLUSTER_NAME, patternType: PatternType.LITERAL }, entriesFor(args, [AclOperation.IDEMPOTENT_WRITE]));
  }
  if (args.has('consumer')) {
    const patterns = resourcePatterns(args, patternType, true);
    for (const p of patterns.filter((p) => p.resourceType === ResourceType.TOPIC)) put(p, entriesFor(args, [AclOperation.READ, AclOperation.DESCRIBE]), true);
    for (const p of patterns.filter((p) => p.resourceType === ResourceType.GROUP)) put(p, entriesFor(args, [AclOperation.READ]), true);
  }
  // Kafka's validateOperation: each resource type's operations, and ALL.
  for (const { pattern, entries } of result.values()) {
    const valid = [...(SUPPORTED_OPERATIONS[pattern.resourceType] ?? []), AclOperation.ALL];
    if (entries.some((e) => !valid.includes(e.operation))) {
      throw new UsageError(`ResourceType ${resourceTypeName(pattern.resourceType)} only supports operations [${valid.map(operationName).join(', ')}]`);
    }
  }
  return result;
}

const filterOf = (p: { resourceType: number; name: string | null; patternType: number }, e?: Entry): AclFilter => ({
  resourceType: p.resourceType,
  resourceName: p.name,
  patternType: p.patternType,
  principal: e?.principal ?? null,
  host: e?.host ?? null,
  operation: e?.operation ?? AclOperation.ANY,
  permissionType: e?.permissionType ?? AclPermission.ANY,
});

type Admin = Awaited<ReturnType<typeof connect>>['admin'];

/** The bindings grouped by pattern, sorted. */
function byPattern(bindings: AclEntry[]): { pattern: Pattern; entries: Entry[] }[] {
  const groups = new Map<string, { pattern: Pattern; entries: Map<string, Entry> }>();
  for (const b of bindings) {
    const pattern = { resourceType: b.resourceType, name: b.resourceName, patternType: b.patternType };
    const key = patternKey(pattern);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { pattern, entries: new Map() }));
    const e = { principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permissionType };
    group.entries.set(entryKey(e), e);
  }
  return [...groups.values()].map((g) => ({ pattern: g.pattern, entries: [...g.entries.values()].sort(compareEntries) })).sort((a, b) => comparePatterns(a.pattern, b.pattern));
}

async function addAcls(admin: Admin, args: ParsedArgs, ctx: ToolContext, patternType: number): Promise<void> {
  if (patternType !== PatternType.LITERAL && patternType !== PatternType.PREFIXED) {
    throw new UsageError(`A '--resource-pattern-type' value of '${patternTypeName(patternType)}' is not valid when adding acls.`);
  }
  const wanted = [...patternsToEntries(args, patternType).values()];
  if (wanted.some((w) => w.entries.length === 0)) throw new UsageError('You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.');
  for (const { pattern, entries } of wanted.sort((a, b) => comparePatterns(a.pattern, b.pattern))) {
    const existing = new Set((await admin.describeAcls(filterOf(pattern))).map((b) => entryKey(b)));
    const fresh: Entry[] = [];
    for (const e of entries.sort(compareEntries)) {
      if (existing.has(entryKey(e))) ctx.out.write(`Acl ${bindingText(pattern, e)} already exists.${NL}`);
      else fresh.push(e);
    }
    if (fresh.length === 0) continue;
    ctx.out.write(`Adding ACLs for resource \`${patternText(pattern)}\`: ${NL} ${fresh.map((e) => `\t${entryText(e)}`).join(NL)}${NL}${NL}`);
    await admin.createAcls(fresh.map((e) => ({ resourceType: pattern.resourceType, resourceName: pattern.name, patternType: pattern.patternType, ...e })));
  }
}

async function removeAcls(admin: Admin, args: ParsedArgs, ctx: ToolContext, patternType: number): Promise<void> {
  for (const { pattern, entries } of [...patternsToEntries(args, patternType).values()].sort((a, b) => comparePatterns(a.pattern, b.pattern))) {
    if (!args.has('force')) {
      const question =
        entries.length === 0
          ? `Are you sure you want to delete all ACLs for resource filter \`${patternText(pattern)}\`? (y/n)`
          : `Are you sure you want to remove ACLs: ${NL} ${entries.map((e) => `\t${entryText(e)}`).join(NL)}${NL} from resource filter \`${patternText(pattern)}\`? (y/n)`;
      ctx.out.write(`${question}${NL}`);
      if ((await readLine(ctx)).trim().toLowerCase() !== 'y') continue;
    }
    await admin.deleteAcls(entries.length === 0 ? [filterOf(pattern)] : entries.map((e) => filterOf(pattern, e)));
  }
}

async function listAcls(admin: Admin, args: ParsedArgs, ctx: ToolContext, patternType: number): Promise<void> {
  const filters = resourcePatterns(args, patternType, false);
  const any = { resourceType: ResourceType.ANY, name: null, patternType: PatternType.ANY };
  const bindings: AclEntry[] = [];
  for (const f of filters.length === 0 ? [any] : filters) bindings.push(...(await admin.describeAcls(filterOf(f))));
  const principals = [...new Set(args.all('principal').filter((p) => p !== '').map(parsePrincipal))];
  if (ctx.out.mode === 'json') {
    const shown = principals.length === 0 ? bindings : bindings.filter((b) => principals.includes(b.principal));
    const acls = byPattern(shown).flatMap(({ pattern, entries }) =>
      entries.map((e) => ({
        resourceType: resourceTypeName(pattern.resourceType),
        name: pattern.name,
        patternType: patternTypeName(pattern.patternType),
        principal: e.principal,
        host: e.host,
        operation: operationName(e.operation),
        permissionType: permissionName(e.permissionType),
      })),
    );
    await ctx.out.print({ plain: '', json: { acls } });
    return;
  }
  const print = (groups: { pattern: Pattern; entries: Entry[] }[]) => {
    for (const { pattern, entries } of groups) ctx.out.write(`Current ACLs for resource \`${patternText(pattern)}\`:${NL}${entries.map((e) => `\t${entryText(e)}`).join(NL)}${NL}${NL}`);
  };
  if (principals.length === 0) return print(byPattern(bindings));
  for (const principal of principals) {
    ctx.out.write(`ACLs for principal \`${principal}\`${NL}`);
    print(byPattern(bindings.filter((b) => b.principal === principal)));
  }
}

/** One line from standard input (Kafka reads the console); an empty answer at end of input. */
async function readLine(ctx: ToolContext): Promise<string> {
  let text = '';
  for await (const chunk of ctx.stdin) {
    text += chunk.toString();
    const nl = text.indexOf('\n');
    if (nl >= 0) return text.slice(0, nl);
  }
  return text;
}

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  checkArgs(args);
  try {
    const patternType = patternTypeOf(args);
    const file = args.has('command-config') ? args.str('command-config') : undefined;
    const props = file ? await readPropertiesFile(file) : new Map<string, string>();
    // Checked before any connection, as Kafka's tool builds every ACL before it asks the cluster.
    if (args.has('add') && patternType !== PatternType.LITERAL && patternType !== PatternType.PREFIXED) {
      throw new UsageError(`A '--resource-pattern-type' value of '${patternTypeName(patternType)}' is not valid when adding acls.`);
    }
    if (args.has('add') || args.has('remove')) {
      const wanted = patternsToEntries(args, patternType);
      if (args.has('add') && [...wanted.values()].some((w) => w.entries.length === 0)) throw new UsageError('You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.');
    }
    const bootstrap = bootstrapFrom(args, ctx.env, args.has('bootstrap-controller') ? 'bootstrap-controller' : undefined);
    const client = await connect(ctx, bootstrap, props, 'kts-acls');
    try {
      if (args.has('add')) await addAcls(client.admin, args, ctx, patternType);
      else if (args.has('remove')) await removeAcls(client.admin, args, ctx, patternType);
      else await listAcls(client.admin, args, ctx, patternType);
    } finally {
      client.close();
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const { message, javaLines } = describeFailure(err);
    if (ctx.out.mode === 'json') throw new CliError(message);
    ctx.out.write(`${RUNTIME_PREFIX}${message}${NL}${javaLines.join(NL)}${NL}${NL}`);
    return 1;
  }
}

/** What Kafka's tool prints for a failure: the message, and the exception's lines without stack frames. */
function describeFailure(err: unknown): { message: string; javaLines: string[] } {
  if (err instanceof AclCommandError) return { message: err.message, javaLines: err.javaLines };
  const e = err as { javaString?: string; javaName?: string; message?: string };
  if (e?.javaName && e.javaString) {
    // A broker's answer reaches Kafka's tool as an ExecutionException around the admin client's exception.
    return { message: e.javaString, javaLines: [`java.util.concurrent.ExecutionException: ${e.javaString}`, `Caused by: ${e.javaString}`] };
  }
  const message = (err as Error)?.message ?? String(err);
  return { message, javaLines: [] };
}
