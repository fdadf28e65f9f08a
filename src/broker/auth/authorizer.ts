// Kafka's ACL authorizer (AclAuthorizer in ZooKeeper mode, StandardAuthorizer in KRaft): switched on
// by `authorizer.class.name`, with `super.users` and `allow.everyone.if.no.acl.found`. The rules:
// - a super user may do anything;
// - the ACLs that apply to a resource are its LITERAL ones, the LITERAL `*` ones and the PREFIXED
//   ones whose prefix starts its name; of those, the ones for this principal (or User:*) and host (or *);
// - a matching DENY for the operation (or ALL) wins over any ALLOW;
// - an ALLOW of the operation, of ALL, or of an operation that implies it (Describe is implied by
//   Read, Write, Delete and Alter; DescribeConfigs by AlterConfigs) allows;
// - a resource no ACL applies to at all is allowed only with allow.everyone.if.no.acl.found=true.
// The ACLs live in an AclStore (the broker's metadata store); this class keeps them in memory,
// indexed by resource type, so a check costs a scan of that type's ACLs and no I/O.
import type { BrokerConfig } from '../../config/broker-config.js';
import {
  AclOperation,
  AclPermission,
  PatternType,
  ResourceType,
  WILDCARD_HOST,
  WILDCARD_PRINCIPAL,
  WILDCARD_RESOURCE,
  bindingKey,
  filterMatches,
  type AclBinding,
  type AclBindingFilter,
} from './acl.js';
import type { AclStore } from './acl-store.js';

/** The operations whose ALLOW also allows `op` (besides `op` itself and ALL). */
const IMPLIED_BY: Record<number, number[]> = {
  [AclOperation.DESCRIBE]: [AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER],
  [AclOperation.DESCRIBE_CONFIGS]: [AclOperation.ALTER_CONFIGS],
};

/** Who asks and from where: the connection's principal and address. */
export interface Requester {
  principal: string;
  host: string;
}

export class Authorizer {
  /** Every binding, by resource type (describe, delete, authorizeAny). */
  private readonly byType = new Map<number, AclBinding[]>();
  /** LITERAL bindings by resource type and name (`*` included), and PREFIXED ones by resource type: what authorize looks up. */
  private readonly literal = new Map<number, Map<string, AclBinding[]>>();
  private readonly prefixed = new Map<number, AclBinding[]>();
  private readonly keys = new Set<string>();
  private readonly superUsers: Set<string>;
  private readonly allowIfNoAcl: boolean;

  constructor(
    config: BrokerConfig,
    private readonly store: AclStore,
  ) {
    this.superUsers = new Set(
      config
        .getString('super.users')
        .split(';')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    );
    this.allowIfNoAcl = config.getBoolean('allow.everyone.if.no.acl.found');
    store.onChange(() => this.reload());
  }

  /** Why the ACL store cannot hold this binding (undefined: it can). */
  nameProblem(binding: AclBinding): string | undefined {
    return this.store.nameProblem?.(binding);
  }

  /** Loads the stored ACLs (the broker calls it once at start; stores call it again on a change). */
  async reload(): Promise<void> {
    this.replace(await this.store.load());
  }

  private replace(bindings: AclBinding[]): void {
    this.byType.clear();
    this.literal.clear();
    this.prefixed.clear();
    this.keys.clear();
    const push = <K>(map: Map<K, AclBinding[]>, key: K, b: AclBinding) => {
      const list = map.get(key);
      if (list) list.push(b);
      else map.set(key, [b]);
    };
    for (const b of bindings) {
      const key = bindingKey(b);
      if (this.keys.has(key)) continue;
      this.keys.add(key);
      push(this.byType, b.resourceType, b);
      if (b.patternType === PatternType.PREFIXED) push(this.prefixed, b.resourceType, b);
      else {
        let names = this.literal.get(b.resourceType);
        if (!names) this.literal.set(b.resourceType, (names = new Map()));
        push(names, b.resourceName, b);
      }
    }
  }

  isSuperUser(principal: string): boolean {
    return this.superUsers.has(principal);
  }

  authorize(who: Requester, operation: number, resourceType: number, name: string): boolean {
    if (this.superUsers.has(who.principal)) return true;
    const names = this.literal.get(resourceType);
    let foundResourceAcl = false;
    let allowed = false;
    // The bindings that apply to the name: its LITERAL ones, the LITERAL `*` ones, the PREFIXED ones
    // whose prefix starts it. A DENY among them answers at once.
    for (const acls of [names?.get(name), name === WILDCARD_RESOURCE ? undefined : names?.get(WILDCARD_RESOURCE), this.prefixed.get(resourceType)]) {
      if (!acls) continue;
      for (const acl of acls) {
        if (acl.patternType === PatternType.PREFIXED && !name.startsWith(acl.resourceName)) continue;
        foundResourceAcl = true;
        if (acl.principal !== who.principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
        if (acl.host !== who.host && acl.host !== WILDCARD_HOST) continue;
        if (acl.permissionType === AclPermission.DENY) {
          if (acl.operation === operation || acl.operation === AclOperation.ALL) return false;
        } else if (!allowed && acl.permissionType === AclPermission.ALLOW) {
          allowed = acl.operation === operation || acl.operation === AclOperation.ALL || (IMPLIED_BY[operation]?.includes(acl.operation) ?? false);
        }
      }
    }
    return foundResourceAcl ? allowed : this.allowIfNoAcl;
  }

  /**
   * Kafka's authorizeByResourceType: may the requester do `operation` on at least one resource of
   * the type (InitProducerId without a transactional id asks for Write on any topic)? An ALLOW
   * counts unless a DENY covers every name it allows.
   */
  authorizeAny(who: Requester, operation: number, resourceType: number): boolean {
    if (this.superUsers.has(who.principal)) return true;
    const acls = (this.byType.get(resourceType) ?? []).filter(
      (acl) =>
        (acl.principal === who.principal || acl.principal === WILDCARD_PRINCIPAL) &&
        (acl.host === who.host || acl.host === WILDCARD_HOST) &&
        (acl.operation === operation || acl.operation === AclOperation.ALL),
    );
    const denies = acls.filter((a) => a.permissionType === AclPermission.DENY);
    if (denies.some((d) => d.patternType === PatternType.LITERAL && d.resourceName === WILDCARD_RESOURCE)) return false;
    const deniedPrefix = (name: string) => denies.some((d) => d.patternType === PatternType.PREFIXED && name.startsWith(d.resourceName));
    for (const allow of acls) {
      if (allow.permissionType !== AclPermission.ALLOW) continue;
      if (allow.patternType === PatternType.LITERAL) {
        if (allow.resourceName === WILDCARD_RESOURCE) return true;
        if (!deniedPrefix(allow.resourceName) && !denies.some((d) => d.patternType === PatternType.LITERAL && d.resourceName === allow.resourceName)) return true;
      } else if (!deniedPrefix(allow.resourceName)) return true;
    }
    return this.allowIfNoAcl && !(this.byType.get(resourceType)?.length);
  }

  describe(filter: AclBindingFilter): AclBinding[] {
    const out: AclBinding[] = [];
    for (const list of this.byType.values()) for (const b of list) if (filterMatches(filter, b)) out.push(b);
    return out;
  }

  /** Stores the bindings (those already present are left as they are) and applies them here. */
  async create(bindings: AclBinding[]): Promise<void> {
    const seen = new Set(this.keys);
    const fresh = bindings.filter((b) => {
      const key = bindingKey(b);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (fresh.length === 0) return;
    await this.store.update(fresh, []);
    this.replace([...this.all(), ...fresh]);
  }

  /** Deletes what each filter matches; answers, per filter, the bindings it deleted. */
  async delete(filters: AclBindingFilter[]): Promise<AclBinding[][]> {
    const matched = filters.map((f) => this.describe(f));
    const gone = new Map<string, AclBinding>();
    for (const list of matched) for (const b of list) gone.set(bindingKey(b), b);
    if (gone.size > 0) {
      await this.store.update([], [...gone.values()]);
      this.replace(this.all().filter((b) => !gone.has(bindingKey(b))));
    }
    return matched;
  }

  all(): AclBinding[] {
    return [...this.byType.values()].flat();
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

export { ResourceType, AclOperation };
