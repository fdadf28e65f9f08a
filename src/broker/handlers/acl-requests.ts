// What CreateAcls, DescribeAcls and DeleteAcls share: the authorizer's absence (SECURITY_DISABLED,
// as Kafka without authorizer.class.name) and the checks Kafka makes of a binding or a filter.
import type { DescribeAclsRequestData } from '../../protocol/generated/29-describe-acls.js';
import type { DeleteAclsFilter } from '../../protocol/generated/31-delete-acls.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import {
  AclOperation,
  AclPermission,
  CLUSTER_NAME,
  operationName,
  PatternType,
  patternTypeName,
  permissionName,
  ResourceType,
  resourceTypeName,
  type AclBinding,
  type AclBindingFilter,
} from '../auth/acl.js';

export const NO_AUTHORIZER = 'No Authorizer is configured on the broker';
export const CLUSTER_DENIED = 'Cluster authorization failed.';

/** A request filter, with v0's missing pattern type taken as LITERAL (the schema default). */
export function filterOf(f: DescribeAclsRequestData | DeleteAclsFilter): AclBindingFilter {
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

/**
 * A DescribeAcls or DeleteAcls filter naming UNKNOWN (code 0) for any of its four enums is refused
 * when Kafka parses the request (DescribeAclsRequest, DeleteAclsRequest): the connection is closed
 * without an answer, whatever the authorizer.
 */
export function refuseUnknownFilter(f: AclBindingFilter, api: 'DescribeAcls' | 'DeleteAcls'): void {
  if (f.resourceType === 0 || f.patternType === 0 || f.operation === 0 || f.permissionType === 0) {
    throw new ProtocolError(`${api} filter contains UNKNOWN elements`);
  }
}

/**
 * Why DeleteAcls refuses a filter with a code Kafka does not know (it reads as UNKNOWN): INVALID_REQUEST
 * with Kafka's message, or null. DescribeAcls takes such a filter and it matches nothing.
 */
export function invalidFilter(f: AclBindingFilter): string | null {
  const known = (table: Record<string, number>, code: number) => code > 0 && Object.values(table).includes(code);
  if (!known(ResourceType, f.resourceType) || !known(PatternType, f.patternType)) return 'Unknown patternFilter.';
  if (!known(AclOperation, f.operation) || !known(AclPermission, f.permissionType)) return 'Unknown entryFilter.';
  return null;
}

/**
 * A creation Kafka cannot even build an AclBinding from (its ResourcePattern and AccessControlEntry
 * constructors throw for ANY, and for a MATCH pattern): the whole request then fails with
 * UNKNOWN_SERVER_ERROR and no message.
 */
export function unbuildableBinding(b: AclBinding): boolean {
  return (
    b.resourceType === ResourceType.ANY ||
    b.patternType === PatternType.ANY ||
    b.patternType === PatternType.MATCH ||
    b.operation === AclOperation.ANY ||
    b.permissionType === AclPermission.ANY
  );
}

/** Why Kafka refuses to create a binding (INVALID_REQUEST with this message), or null. */
export function invalidBinding(b: AclBinding): string | null {
  // Kafka names the enum (a code it does not know reads as UNKNOWN).
  if (!(b.resourceType > ResourceType.ANY && b.resourceType <= ResourceType.USER)) return `Invalid resourceType ${resourceTypeName(b.resourceType)}`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) return `Invalid patternType ${patternTypeName(b.patternType)}`;
  if (!(b.operation > AclOperation.ANY && b.operation <= AclOperation.DESCRIBE_TOKENS)) return `Invalid operation ${operationName(b.operation)}`;
  if (b.permissionType !== AclPermission.ALLOW && b.permissionType !== AclPermission.DENY) return `Invalid permissionType ${permissionName(b.permissionType)}`;
  if (b.resourceName === '') return 'Invalid empty resource name';
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  const colon = b.principal.indexOf(':');
  if (colon <= 0 || colon === b.principal.length - 1) return `Could not parse principal from \`${b.principal}\` (no colon is present separating the principal type from the principal name)`;
  return null;
}

export const SECURITY_DISABLED = ErrorCode.SECURITY_DISABLED;
