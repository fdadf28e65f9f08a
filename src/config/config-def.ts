// Kafka's ConfigDef in miniature: a key's type, default, validator and doc, and the parse-then-validate
// step that turns a string from server.properties, --override or an AlterConfigs request into either
// a value or Kafka's one-line complaint ("Invalid value abc for configuration num.partitions: Not a
// number of type INT"). The broker and topic tables (broker-configs.ts, topic-configs.ts) are built
// from these, and defaults, validation and DescribeConfigs all read those tables.

export type ConfigTypeName = 'BOOLEAN' | 'STRING' | 'INT' | 'SHORT' | 'LONG' | 'DOUBLE' | 'LIST' | 'CLASS' | 'PASSWORD';

/** DescribeConfigs `configType` ids (KIP-569). */
export const ConfigType = { BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9 } as const;

/** A parsed value: integers as bigint (LONG needs all 64 bits), doubles as number, lists as arrays. */
export type ConfigValue = boolean | string | bigint | number | string[];

export interface Validator {
  /** Kafka's reason (after "Invalid value X for configuration K: "), or null when the value is fine. */
  check(name: string, value: ConfigValue): ConfigProblem | null;
}

/** What is wrong, and the value Kafka names in its message (a list element, the parsed number...). */
export interface ConfigProblem {
  value: string;
  reason: string;
}

export interface ConfigKey {
  name: string;
  type: ConfigTypeName;
  /** The default as a string, or null when Kafka has none. */
  default: string | null;
  validator?: Validator;
  doc?: string;
}

const INT_RANGE = { INT: [-(2n ** 31n), 2n ** 31n - 1n], SHORT: [-(2n ** 15n), 2n ** 15n - 1n], LONG: [-(2n ** 63n), 2n ** 63n - 1n] } as const;
// Java's Double.parseDouble, less hex floats.
const DOUBLE_SYNTAX = /^[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?$/;

/** Java's Integer/Short/Long.parseInt on a trimmed string: digits with an optional sign, within range. */
function parseInteger(text: string, type: 'INT' | 'SHORT' | 'LONG'): bigint | null {
  if (!/^[+-]?\d+$/.test(text)) return null;
  const n = BigInt(text);
  const [min, max] = INT_RANGE[type];
  return n < min || n > max ? null : n;
}

/** ConfigDef.parseType: the typed value, or Kafka's complaint. */
export function parseConfigValue(name: string, type: ConfigTypeName, raw: string): { value: ConfigValue } | { error: string } {
  const trimmed = raw.trim();
  const fail = (reason: string) => ({ error: invalidValue(name, raw, reason) });
  switch (type) {
    case 'BOOLEAN':
      if (/^true$/i.test(trimmed)) return { value: true };
      if (/^false$/i.test(trimmed)) return { value: false };
      return fail('Expected value to be either true or false');
    case 'INT':
    case 'SHORT':
    case 'LONG': {
      const n = parseInteger(trimmed, type);
      return n === null ? fail(`Not a number of type ${type}`) : { value: n };
    }
    case 'DOUBLE':
      return DOUBLE_SYNTAX.test(trimmed) ? { value: Number(trimmed.replace(/[fFdD]$/, '')) } : fail('Not a number of type DOUBLE');
    case 'LIST':
      return { value: trimmed === '' ? [] : trimmed.split(/\s*,\s*/) };
    default:
      return { value: trimmed };
  }
}

/** ConfigException's message. */
export function invalidValue(name: string, value: string, reason: string): string {
  return `Invalid value ${value} for configuration ${name}: ${reason}`;
}

/** Parses and validates one value; null when it is fine, else Kafka's one-line message. */
export function checkConfigValue(key: ConfigKey, raw: string): string | null {
  const parsed = parseConfigValue(key.name, key.type, raw);
  if ('error' in parsed) return parsed.error;
  const problem = key.validator?.check(key.name, parsed.value);
  return problem ? invalidValue(key.name, problem.value, problem.reason) : null;
}

const show = (v: ConfigValue) => (Array.isArray(v) ? `[${v.join(', ')}]` : String(v));

/** ConfigDef.Range.atLeast. */
export function atLeast(min: number | bigint): Validator {
  return between(min, undefined);
}

/** ConfigDef.Range.between (inclusive); an undefined bound is open. */
export function between(min: number | bigint | undefined, max: number | bigint | undefined): Validator {
  return {
    check(_name, value) {
      const n = typeof value === 'bigint' ? value : Number(value);
      if (min !== undefined && n < min) return { value: show(value), reason: `Value must be at least ${min}` };
      if (max !== undefined && n > max) return { value: show(value), reason: `Value must be no more than ${max}` };
      return null;
    },
  };
}

/** ConfigDef.ValidString.in (case-sensitive, as Kafka's). */
export function oneOf(...allowed: string[]): Validator {
  return {
    check(_name, value) {
      return allowed.includes(String(value)) ? null : { value: String(value), reason: `String must be one of: ${allowed.join(', ')}` };
    },
  };
}

/** ConfigDef.ValidList.in: every element one of `allowed` (Kafka names the first bad element). */
export function eachOneOf(...allowed: string[]): Validator {
  const element = oneOf(...allowed);
  return {
    check(name, value) {
      for (const item of value as string[]) {
        const problem = element.check(name, item);
        if (problem) return problem;
      }
      return null;
    },
  };
}

/** A validator of kts's own (or one of Kafka's that is not a range or a set of strings). */
export function custom(check: (value: ConfigValue, name: string) => string | null): Validator {
  return {
    check(name, value) {
      const reason = check(value, name);
      return reason === null ? null : { value: show(value), reason };
    },
  };
}
