// What CreateAcls, DescribeAcls and DeleteAcls share: the authorizer's absence (SECURITY_DISABLED,
// as Kafka without authorizer.class.name) and the checks Kafka makes of a binding or a filter.
import { ErrorCode } from '../../protocol/errors.js';
import { AclOperation, AclPermission, CLUSTER_NAME, PatternType, ResourceType, type AclBinding, type AclBindingFilter } from '../auth/acl.js';

export const NO_AUTHORIZER = 'No Authorizer is configured on the broker';
export const CLUSTER_DENIED = 'Cluster authorization failed.';

/** A request filter, with v0's missing pattern type taken as LITERAL (the schema default). */
export function filterOf(f: any): AclBindingFilter {
  return {
    resourceType: f.resourceTypeFilter,
    resourceName: f.resourceNameFilter ?? null,
    patternType: f.patternTypeFilter ?? PatternType.LITERAL,
    principal: f.principalFilter ?? null,
    host: f.hostFilter ?? null,
    operation: f.operation,
    permissionType: f.permissionType,
  };
}

/** Why Kafka refuses a filter (UNKNOWN or out-of-range codes): INVALID_REQUEST with this message, or null. */
export function invalidFilter(f: AclBindingFilter): string | null {
  if (!(f.resourceType >= ResourceType.ANY && f.resourceType <= ResourceType.USER)) return 'The filter must not contain UNKNOWN elements (resource type).';
  if (!(f.patternType >= PatternType.ANY && f.patternType <= PatternType.PREFIXED)) return 'The filter must not contain UNKNOWN elements (pattern type).';
  if (!(f.operation >= AclOperation.ANY && f.operation <= AclOperation.DESCRIBE_TOKENS)) return 'The filter must not contain UNKNOWN elements (operation).';
  if (!(f.permissionType >= AclPermission.ANY && f.permissionType <= AclPermission.ALLOW)) return 'The filter must not contain UNKNOWN elements (permission type).';
  return null;
}

/** Why Kafka refuses to create a binding (INVALID_REQUEST with this message), or null. */
export function invalidBinding(b: AclBinding): string | null {
  if (!(b.resourceType > ResourceType.ANY && b.resourceType <= ResourceType.USER)) return `Invalid resourceType ${b.resourceType}`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) return `Invalid patternType ${b.patternType}`;
  if (!(b.operation > AclOperation.ANY && b.operation <= AclOperation.DESCRIBE_TOKENS)) return `Invalid operation ${b.operation}`;
  if (b.permissionType !== AclPermission.ALLOW && b.permissionType !== AclPermission.DENY) return `Invalid permissionType ${b.permissionType}`;
  if (b.resourceName === '') return 'Invalid empty resource name specified';
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  const colon = b.principal.indexOf(':');
  if (colon <= 0 || colon === b.principal.length - 1) return `Could not parse principal from \`${b.principal}\` (no colon is found between principal type and principal name)`;
  return null;
}

export const SECURITY_DISABLED = ErrorCode.SECURITY_DISABLED;
