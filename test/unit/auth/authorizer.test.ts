// Kafka's authorization rules, checked on the authorizer alone: super users, LITERAL / PREFIXED /
// `*` patterns, DENY over ALLOW, hosts, implied operations, the no-ACL default, authorizeByResourceType,
// and the embedded store keeping ACLs across a reopen.
import { describe, expect, it } from 'vitest';
import { BrokerConfig } from '../../../src/config/broker-config.js';
import { Authorizer } from '../../../src/broker/auth/authorizer.js';
import { FileAclStore } from '../../../src/broker/auth/acl-store.js';
import { AclOperation as Op, AclPermission, PatternType, ResourceType, filterMatches, type AclBinding } from '../../../src/broker/auth/acl.js';
import { MemoryFileSystem } from '../../../src/storage/memory-file-system.js';
import { hostOf } from '../../../src/broker/auth/check.js';

const alice = { principal: 'User:alice', host: '10.0.0.1' };
const bob = { principal: 'User:bob', host: '10.0.0.2' };

function acl(partial: Partial<AclBinding>): AclBinding {
  return { resourceType: ResourceType.TOPIC, resourceName: 'a', patternType: PatternType.LITERAL, principal: 'User:alice', host: '*', operation: Op.READ, permissionType: AclPermission.ALLOW, ...partial };
}

async function authorizerWith(bindings: AclBinding[], props: Record<string, string> = {}, fs = new MemoryFileSystem()) {
  const config = new BrokerConfig(new Map(Object.entries({ 'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer', ...props })));
  const authorizer = new Authorizer(config, new FileAclStore('/data', fs));
  await authorizer.reload();
  await authorizer.create(bindings);
  return authorizer;
}

describe('Authorizer', () => {
  it('allows super users everything and nobody else without an ACL', async () => {
    const a = await authorizerWith([], { 'super.users': 'User:admin; User:ops' });
    expect(a.authorize({ principal: 'User:ops', host: '1.2.3.4' }, Op.ALTER, ResourceType.CLUSTER, 'kafka-cluster')).toBe(true);
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, 'a')).toBe(false);
  });

  it('allow.everyone.if.no.acl.found applies only to resources no ACL names', async () => {
    const a = await authorizerWith([acl({ principal: 'User:bob' })], { 'allow.everyone.if.no.acl.found': 'true' });
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, 'other')).toBe(true);
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, 'a')).toBe(false);
    expect(a.authorize(bob, Op.READ, ResourceType.TOPIC, 'a')).toBe(true);
  });

  it('matches LITERAL names, the * wildcard, PREFIXED patterns and User:*', async () => {
    const a = await authorizerWith([
      acl({ resourceName: 'orders' }),
      acl({ resourceName: 'logs-', patternType: PatternType.PREFIXED, operation: Op.WRITE }),
      acl({ resourceName: '*', resourceType: ResourceType.GROUP, principal: 'User:*' }),
    ]);
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, 'orders')).toBe(true);
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, 'orders2')).toBe(false);
    expect(a.authorize(alice, Op.WRITE, ResourceType.TOPIC, 'logs-app')).toBe(true);
    expect(a.authorize(alice, Op.WRITE, ResourceType.TOPIC, 'log')).toBe(false);
    expect(a.authorize(bob, Op.READ, ResourceType.GROUP, 'any-group')).toBe(true);
    expect(a.authorize(bob, Op.READ, ResourceType.TOPIC, 'orders')).toBe(false);
  });

  it('lets DENY win over ALLOW, by operation or ALL, and only for its host', async () => {
    const a = await authorizerWith([
      acl({ resourceName: '*', operation: Op.ALL }),
      acl({ resourceName: 'secret', permissionType: AclPermission.DENY, operation: Op.READ }),
      acl({ resourceName: 'locked', permissionType: AclPermission.DENY, operation: Op.ALL, host: '10.0.0.1' }),
    ]);
    expect(a.authorize(alice, Op.WRITE, ResourceType.TOPIC, 'secret')).toBe(true);
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, 'secret')).toBe(false);
    expect(a.authorize(alice, Op.DESCRIBE, ResourceType.TOPIC, 'locked')).toBe(false);
    expect(a.authorize({ principal: 'User:alice', host: '10.0.0.9' }, Op.DESCRIBE, ResourceType.TOPIC, 'locked')).toBe(true);
  });

  it('implies Describe from Read, Write, Delete and Alter, and DescribeConfigs from AlterConfigs', async () => {
    for (const op of [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER]) {
      const a = await authorizerWith([acl({ operation: op })]);
      expect(a.authorize(alice, Op.DESCRIBE, ResourceType.TOPIC, 'a')).toBe(true);
    }
    const configs = await authorizerWith([acl({ operation: Op.ALTER_CONFIGS })]);
    expect(configs.authorize(alice, Op.DESCRIBE_CONFIGS, ResourceType.TOPIC, 'a')).toBe(true);
    expect(configs.authorize(alice, Op.DESCRIBE, ResourceType.TOPIC, 'a')).toBe(false);
    const create = await authorizerWith([acl({ operation: Op.CREATE })]);
    expect(create.authorize(alice, Op.DESCRIBE, ResourceType.TOPIC, 'a')).toBe(false);
  });

  it('answers authorizeByResourceType as Kafka: an ALLOW counts unless a DENY covers it', async () => {
    expect((await authorizerWith([acl({ operation: Op.WRITE, resourceName: 'x' })])).authorizeAny(alice, Op.WRITE, ResourceType.TOPIC)).toBe(true);
    expect((await authorizerWith([])).authorizeAny(alice, Op.WRITE, ResourceType.TOPIC)).toBe(false);
    const denied = await authorizerWith([acl({ operation: Op.WRITE, resourceName: 'x' }), acl({ operation: Op.WRITE, resourceName: '*', permissionType: AclPermission.DENY })]);
    expect(denied.authorizeAny(alice, Op.WRITE, ResourceType.TOPIC)).toBe(false);
    const prefixDenied = await authorizerWith([acl({ operation: Op.WRITE, resourceName: 'ab' }), acl({ operation: Op.WRITE, resourceName: 'a', patternType: PatternType.PREFIXED, permissionType: AclPermission.DENY })]);
    expect(prefixDenied.authorizeAny(alice, Op.WRITE, ResourceType.TOPIC)).toBe(false);
  });

  it('filters as DescribeAcls: ANY, MATCH and exact patterns', () => {
    const literal = acl({ resourceName: 'orders' });
    const wildcard = acl({ resourceName: '*' });
    const prefixed = acl({ resourceName: 'ord', patternType: PatternType.PREFIXED });
    const f = (patternType: number, resourceName: string | null) => ({ resourceType: ResourceType.ANY, resourceName, patternType, principal: null, host: null, operation: Op.ANY, permissionType: AclPermission.ANY });
    expect([literal, wildcard, prefixed].filter((b) => filterMatches(f(PatternType.MATCH, 'orders'), b))).toEqual([literal, wildcard, prefixed]);
    expect([literal, wildcard, prefixed].filter((b) => filterMatches(f(PatternType.ANY, 'orders'), b))).toEqual([literal]);
    expect([literal, wildcard, prefixed].filter((b) => filterMatches(f(PatternType.PREFIXED, null), b))).toEqual([prefixed]);
    expect([literal, wildcard, prefixed].filter((b) => filterMatches(f(PatternType.LITERAL, null), b))).toEqual([literal, wildcard]);
  });

  it('keeps ACLs in the store across a reopen, and deletes by filter', async () => {
    const fs = new MemoryFileSystem();
    const first = await authorizerWith([acl({}), acl({ operation: Op.WRITE })], {}, fs);
    const deleted = await first.delete([{ resourceType: ResourceType.TOPIC, resourceName: 'a', patternType: PatternType.LITERAL, principal: null, host: null, operation: Op.WRITE, permissionType: AclPermission.ANY }]);
    expect(deleted[0]).toHaveLength(1);
    await first.close();
    const reopened = await authorizerWith([], {}, fs);
    expect(reopened.all()).toEqual([acl({})]);
  });
});

describe('hostOf', () => {
  const ctxFrom = (remoteAddress: string) => ({ connection: { remoteAddress } }) as unknown as Parameters<typeof hostOf>[0];
  it('takes the port off the connection address and the ::ffff: prefix off an IPv4 client', () => {
    expect(hostOf(ctxFrom('127.0.0.1:54321'))).toBe('127.0.0.1');
    expect(hostOf(ctxFrom('::ffff:10.1.2.3:9'))).toBe('10.1.2.3');
    expect(hostOf(ctxFrom('::1:40000'))).toBe('::1');
  });
});
