// The shape of the schema data that scripts/generate-protocol.mjs writes under ../generated/.
// It mirrors Kafka's message JSON closely; names are already the JS property names.

/** Inclusive version range; `N+` in Kafka's files is written as [N, MAX_VERSION]. */
export type Versions = readonly [min: number, max: number];

export const MAX_VERSION = 0x7fff;

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'uuid'
  | 'records';

export interface StructSchema {
  /** Kafka's struct type name (documentation only; no wire effect). */
  readonly struct: string;
  readonly fields: readonly FieldSchema[];
}

export type DefaultValue = number | boolean | string | null;

export interface FieldSchema {
  /** Property name: Kafka's field name with the first letter lower-cased. */
  readonly name: string;
  /** For arrays, the element type. */
  readonly type: PrimitiveType | StructSchema;
  readonly array?: true;
  readonly versions: Versions;
  readonly nullable?: Versions;
  readonly tag?: number;
  readonly tagged?: Versions;
  /** Explicit schema default (absent: the type's zero). */
  readonly default?: DefaultValue;
  readonly ignorable?: true;
  /** Field-level override of the message's flexible versions (only RequestHeader.ClientId: none). */
  readonly flexible?: Versions | null;
  readonly zeroCopy?: true;
  readonly mapKey?: true;
  readonly entityType?: string;
}

export interface MessageSchema {
  readonly name: string;
  readonly apiKey?: number;
  readonly type: 'request' | 'response' | 'header' | 'data';
  readonly validVersions: Versions;
  /** null when the message has no flexible version. */
  readonly flexibleVersions: Versions | null;
  readonly deprecatedVersions?: Versions;
  readonly latestVersionUnstable?: true;
  readonly listeners?: readonly string[];
  readonly fields: readonly FieldSchema[];
}

export interface ApiSchemas {
  readonly apiKey: number;
  /** Kafka's name without Request/Response: `Produce`, `ApiVersions`. */
  readonly name: string;
  readonly request: MessageSchema;
  readonly response: MessageSchema;
}

export function inVersions(range: Versions | null | undefined, version: number): boolean {
  return range != null && version >= range[0] && version <= range[1];
}

/**
 * What the encoder takes for data of type `T` (a generated `...Data` interface): any field may be
 * left out, at any depth, and is then written as its schema default. Buffers are kept whole.
 */
export type Encodable<T> = T extends Buffer | string | number | boolean | null | undefined
  ? T
  : T extends readonly (infer E)[]
    ? readonly Encodable<E>[]
    : { [K in keyof T]?: Encodable<T[K]> };
