// A connector's `transforms` and `predicates` (Kafka's single message transforms): the chain built
// from its config, each transform optionally guarded by a predicate (`predicate`, `negate`). The
// transforms themselves are in smt.ts.
import { ConfigException } from './converters.js';
import { PREDICATES, TRANSFORMS } from './smt.js';

/** What a transform sees and returns: the fields source and sink records share (api.ts). */
import type { ConnectRecord } from './api.js';
export type { ConnectRecord };

export interface Transformation {
  apply<R extends ConnectRecord>(record: R): R | null;
}

export interface Predicate {
  test(record: ConnectRecord): boolean;
}

export type TransformFactory = (props: Record<string, string>, isKey: boolean | null) => Transformation;
export type PredicateFactory = (props: Record<string, string>) => Predicate;

/** Finds a class by its full name or its simple name (Kafka's plugin aliases); `$Key`/`$Value` pick the side. */
function lookup<T>(table: Record<string, T>, className: string): { factory: T; side: 'Key' | 'Value' | null } | undefined {
  const [base, side] = className.trim().split('$');
  const factory = table[base] ?? Object.entries(table).find(([full]) => full.endsWith(`.${base}`))?.[1];
  if (!factory) return undefined;
  return { factory, side: side === 'Key' || side === 'Value' ? side : null };
}

function withPrefix(config: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

export function buildChain(config: Record<string, string>): (record: ConnectRecord) => ConnectRecord | null {
  const predicates = new Map<string, Predicate>();
  for (const alias of list(config.predicates)) {
    const props = withPrefix(config, `predicates.${alias}.`);
    if (!props.type) throw new ConfigException(`Missing required configuration "predicates.${alias}.type" which has no default value.`);
    const found = lookup(PREDICATES, props.type);
    if (!found) throw new ConfigException(`Invalid value ${props.type} for configuration predicates.${alias}.type: Class ${props.type} could not be found.`);
    predicates.set(alias, found.factory(props));
  }
  const steps: { t: Transformation; p: Predicate | null; negate: boolean }[] = [];
  for (const alias of list(config.transforms)) {
    const props = withPrefix(config, `transforms.${alias}.`);
    if (!props.type) throw new ConfigException(`Missing required configuration "transforms.${alias}.type" which has no default value.`);
    const found = lookup(TRANSFORMS, props.type);
    if (!found) throw new ConfigException(`Invalid value ${props.type} for configuration transforms.${alias}.type: Class ${props.type} could not be found.`);
    let p: Predicate | null = null;
    if (props.predicate) {
      p = predicates.get(props.predicate) ?? null;
      if (!p) throw new ConfigException(`Invalid value ${props.predicate} for configuration transforms.${alias}.predicate: Predicate not found`);
    }
    steps.push({ t: found.factory(props, found.side === null ? null : found.side === 'Key'), p, negate: props.negate === 'true' });
  }
  if (steps.length === 0) return (r) => r;
  return (record) => {
    let r: ConnectRecord | null = record;
    for (const s of steps) {
      if (r === null) return null;
      if (s.p && s.p.test(r) === s.negate) continue;
      r = s.t.apply(r);
    }
    return r;
  };
}
