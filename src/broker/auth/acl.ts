// Kafka's ACL model (org.apache.kafka.common.acl / .resource): resource types, pattern types,
// operations and permissions with their wire codes, the names Kafka prints and stores, and the
// filter matching DescribeAcls and DeleteAcls use. Pure data: no I/O.

/** ResourceType codes on the wire. */
export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;

export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;

export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;

export const AclPermission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The one cluster resource's name. */
export const CLUSTER_NAME = 'kafka-cluster';
export const WILDCARD_RESOURCE = '*';
export const WILDCARD_HOST = '*';
export const WILDCARD_PRINCIPAL = 'User:*';

/** A stored ACL: a resource pattern and one access control entry. */
export interface AclBinding {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** DescribeAcls / DeleteAcls filter: null strings and ANY codes match everything. */
export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

const nameOf = (table: Record<string, number>, code: number) => Object.keys(table).find((k) => table[k] === code) ?? 'UNKNOWN';

/** The enum names Kafka's toString prints (TOPIC, LITERAL, READ, ALLOW). */
export const resourceTypeName = (code: number) => nameOf(ResourceType, code);
export const patternTypeName = (code: number) => nameOf(PatternType, code);
export const operationName = (code: number) => nameOf(AclOperation, code);
export const permissionName = (code: number) => nameOf(AclPermission, code);

/** Kafka's camel-case names (SecurityUtils): Topic, TransactionalId, DescribeConfigs, Allow. */
export function camelName(enumName: string): string {
  return enumName
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** Parses a name as Kafka's SecurityUtils does: case-insensitive, with or without underscores. */
function parseName(table: Record<string, number>, text: string): number | undefined {
  const wanted = text.trim().toUpperCase().replace(/_/g, '');
  for (const [name, code] of Object.entries(table)) if (name.replace(/_/g, '') === wanted) return code;
  return undefined;
}
export const parseOperation = (text: string) => parseName(AclOperation, text);
export const parseResourceType = (text: string) => parseName(ResourceType, text);
export const parsePatternType = (text: string) => parseName(PatternType, text);
export const parsePermission = (text: string) => parseName(AclPermission, text);

/** Operations each resource type accepts (Kafka's AclEntry.supportedOperations), ALL aside. */
export const SUPPORTED_OPERATIONS: Record<number, number[]> = {
  [ResourceType.TOPIC]: [AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DESCRIBE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS],
  [ResourceType.GROUP]: [AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE],
  [ResourceType.CLUSTER]: [
    AclOperation.CREATE,
    AclOperation.CLUSTER_ACTION,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
    AclOperation.IDEMPOTENT_WRITE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE,
  ],
  [ResourceType.TRANSACTIONAL_ID]: [AclOperation.DESCRIBE, AclOperation.WRITE],
  [ResourceType.DELEGATION_TOKEN]: [AclOperation.DESCRIBE],
  [ResourceType.USER]: [AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS],
};

/** Does the filter's resource pattern part match the binding's pattern (ResourcePatternFilter.matches)? */
export function patternMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH && f.patternType !== b.patternType) return false;
  if (f.resourceName === null) return true;
  if (f.patternType === PatternType.ANY || f.patternType === b.patternType) return f.resourceName === b.resourceName;
  // MATCH: the stored patterns that would apply to a resource named like the filter.
  if (b.patternType === PatternType.LITERAL) return b.resourceName === f.resourceName || b.resourceName === WILDCARD_RESOURCE;
  if (b.patternType === PatternType.PREFIXED) return f.resourceName.startsWith(b.resourceName);
  return false;
}

/** Does the filter's entry part match the binding's entry (AccessControlEntryFilter.matches)? */
export function entryMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  return f.permissionType === AclPermission.ANY || f.permissionType === b.permissionType;
}

export const filterMatches = (f: AclBindingFilter, b: AclBinding) => patternMatches(f, b) && entryMatches(f, b);

/** A binding's identity (for de-duplication). */
export function bindingKey(b: AclBinding): string {
  return JSON.stringify([b.resourceType, b.patternType, b.resourceName, b.principal, b.host, b.operation, b.permissionType]);
}
