// The tree and write validation, without sockets: ZooKeeper's naming, Stat and error rules.
import { describe, expect, it } from 'vitest';
import { DataTree, type TreeEvent } from '../../../src/coordinator/data-tree.js';
import { KeeperError, type PrepContext, PrepView, prepMulti, prepOp } from '../../../src/coordinator/prep.js';
import type { Txn } from '../../../src/coordinator/txn.js';
import { ErrorCode, EventType, OpCode, OPEN_ACL_UNSAFE, type CreateRequest, type MultiOp, pathError } from '../../../src/protocol/zookeeper/index.js';

const SESSION = 0x1234n;

function harness(extendedTypesEnabled = false) {
  const tree = new DataTree();
  const ctx: PrepContext = { tree, authIds: [], extendedTypesEnabled };
  let zxid = 0;
  const commit = (txn: Txn, events: TreeEvent[] = [], sessionId = SESSION) => tree.apply({ sessionId, cxid: 0, zxid: ++zxid, time: 1000 + zxid }, txn, events);
  /** prep + apply; returns the result, or the error code. */
  const write = (op: MultiOp, sessionId = SESSION) => {
    let txn: Txn;
    try {
      txn = prepOp(ctx, new PrepView(tree), op);
    } catch (e) {
      txn = { type: OpCode.error, err: (e as KeeperError).code };
    }
    return commit(txn, [], sessionId);
  };
  const create = (path: string, flags = 0, data: Buffer | null = null, type: CreateRequest['type'] = OpCode.create, ttl?: number) =>
    write({ type, path, data, acl: [...OPEN_ACL_UNSAFE], flags, ttl });
  return { tree, ctx, commit, write, create, zxid: () => zxid };
}

describe('DataTree + prep', () => {
  it('starts with /, /zookeeper, /zookeeper/quota and /zookeeper/config and ZooKeeper’s cversions', () => {
    const { tree } = harness();
    expect([...tree.nodes.keys()].sort()).toEqual(['/', '/zookeeper', '/zookeeper/config', '/zookeeper/quota']);
    expect(tree.stat(tree.get('/')!)).toMatchObject({ cversion: -1, numChildren: 1, czxid: 0 });
    expect(tree.stat(tree.get('/zookeeper')!)).toMatchObject({ cversion: -2, numChildren: 2 });
  });

  it('names sequential nodes from the parent’s creation counter, which deletions do not lower', () => {
    const { create, write, tree } = harness();
    create('/p');
    expect(create('/p/s-', 2).path).toBe('/p/s-0000000000');
    expect(create('/p/x').path).toBe('/p/x');
    write({ type: OpCode.delete, path: '/p/x', version: -1 });
    expect(create('/p/s-', 2).path).toBe('/p/s-0000000002');
    expect(create('/p/', 2).path).toBe('/p/0000000003');
    // creations 4, children 2: reported cversion = creations + deletions = 5.
    expect(tree.stat(tree.get('/p')!)).toMatchObject({ cversion: 5, numChildren: 3 });
  });

  it('maps write failures to ZooKeeper’s codes; each still consumes a zxid', () => {
    const { create, write, zxid } = harness();
    create('/a', 0, Buffer.from('x'));
    expect(create('/a').err).toBe(ErrorCode.NodeExists);
    expect(create('/b/c').err).toBe(ErrorCode.NoNode);
    expect(create('relative').err).toBe(ErrorCode.BadArguments);
    expect(create('/a/', 0).err).toBe(ErrorCode.BadArguments);
    expect(create('/zookeeper').err).toBe(ErrorCode.BadArguments);
    expect(create('/a/b', 7).err).toBe(ErrorCode.BadArguments);
    expect(write({ type: OpCode.create, path: '/a/b', data: null, acl: [], flags: 0 }).err).toBe(ErrorCode.InvalidACL);
    expect(write({ type: OpCode.create, path: '/a/b', data: null, acl: [{ perms: 31, id: { scheme: 'bogus', id: 'x' } }], flags: 0 }).err).toBe(ErrorCode.InvalidACL);
    create('/e', 1);
    expect(create('/e/kid').err).toBe(ErrorCode.NoChildrenForEphemerals);
    expect(write({ type: OpCode.setData, path: '/a', data: null, version: 5 }).err).toBe(ErrorCode.BadVersion);
    expect(write({ type: OpCode.delete, path: '/', version: -1 }).err).toBe(ErrorCode.BadArguments);
    create('/a/kid');
    expect(write({ type: OpCode.delete, path: '/a', version: -1 }).err).toBe(ErrorCode.NotEmpty);
    expect(write({ type: OpCode.delete, path: '/zz', version: -1 }).err).toBe(ErrorCode.NoNode);
    expect(zxid()).toBe(16);
  });

  it('setData bumps version, mzxid and mtime; -1 matches any version', () => {
    const { create, write, tree } = harness();
    create('/v', 0, Buffer.from('a'));
    const r = write({ type: OpCode.setData, path: '/v', data: Buffer.from('bb'), version: 0 });
    expect(r.stat).toMatchObject({ version: 1, dataLength: 2, mzxid: 2, mtime: 1002, czxid: 1 });
    expect(write({ type: OpCode.setData, path: '/v', data: null, version: -1 }).stat).toMatchObject({ version: 2, dataLength: 0 });
    expect(tree.get('/v')!.data).toBeNull();
  });

  it('the version after 2^31-1 skips -1 (ZOOKEEPER-4743)', () => {
    const { create, write, tree } = harness();
    create('/v');
    tree.get('/v')!.version = -2;
    expect(write({ type: OpCode.setData, path: '/v', data: null, version: -2 }).stat!.version).toBe(0);
  });

  it('multi validates ops against the earlier ops of the same multi, and applies all or nothing', () => {
    const { tree, ctx, commit, create } = harness();
    create('/m');
    const ok = prepMulti(ctx, {
      type: OpCode.multi,
      ops: [
        { type: OpCode.create, path: '/m/a', data: null, acl: [...OPEN_ACL_UNSAFE], flags: 0 },
        { type: OpCode.create, path: '/m/a/b', data: null, acl: [...OPEN_ACL_UNSAFE], flags: 0 },
        { type: OpCode.setData, path: '/m/a', data: Buffer.from('x'), version: 0 },
        { type: OpCode.check, path: '/m/a', version: 1 },
        { type: OpCode.delete, path: '/m/a/b', version: -1 },
      ],
    });
    expect(commit(ok).results!.map((r) => r.err)).toEqual([0, 0, 0, 0, 0]);
    expect(tree.get('/m/a')!.version).toBe(1);
    const before = JSON.stringify([...tree.nodes.keys()]);
    const bad = prepMulti(ctx, {
      type: OpCode.multi,
      ops: [
        { type: OpCode.create, path: '/m/new', data: null, acl: [...OPEN_ACL_UNSAFE], flags: 0 },
        { type: OpCode.delete, path: '/m/a', version: 0 },
        { type: OpCode.create, path: '/m/other', data: null, acl: [...OPEN_ACL_UNSAFE], flags: 0 },
      ],
    });
    expect(commit(bad).results).toEqual([
      { type: -1, err: 0 },
      { type: -1, err: ErrorCode.BadVersion },
      { type: -1, err: ErrorCode.RuntimeInconsistency },
    ]);
    expect(JSON.stringify([...tree.nodes.keys()])).toBe(before);
  });

  it('closeSession deletes the session’s ephemerals and reports the events', () => {
    const { create, commit, tree } = harness();
    commit({ type: OpCode.createSession, timeout: 4000 });
    create('/p');
    create('/p/e1', 1);
    create('/p/e2', 3);
    create('/p/other', 1, null, OpCode.create, undefined);
    expect(tree.stat(tree.get('/p/e1')!).ephemeralOwner).toBe(SESSION);
    expect(tree.sessions.get(SESSION)).toBe(4000);
    const events: TreeEvent[] = [];
    commit({ type: OpCode.closeSession }, events);
    expect(tree.get('/p')!.children.size).toBe(0);
    expect(tree.sessions.has(SESSION)).toBe(false);
    expect(events).toContainEqual({ type: EventType.NodeDeleted, path: '/p/e1' });
    expect(events).toContainEqual({ type: EventType.NodeChildrenChanged, path: '/p' });
  });

  it('containers and TTL nodes report ephemeralOwner 0; TTLs need extended types', () => {
    const off = harness(false);
    expect(off.create('/t', 5, null, OpCode.createTTL, 1000).err).toBe(ErrorCode.Unimplemented);
    const on = harness(true);
    const c = on.create('/c', 4, null, OpCode.createContainer);
    expect(c.stat!.ephemeralOwner).toBe(0n);
    expect(on.tree.containers.has('/c')).toBe(true);
    expect(on.create('/t', 5, null, OpCode.createTTL, 1000).stat!.ephemeralOwner).toBe(0n);
    expect(on.create('/t0', 5, null, OpCode.createTTL, 0).err).toBe(ErrorCode.BadArguments);
    expect(on.tree.ttls.has('/t')).toBe(true);
  });
});

describe('pathError (PathUtils.validatePath)', () => {
  it.each([
    ['/', null],
    ['/a/b-c.d', null],
    ['/a/..b', null],
    ['', 'Path length must be > 0'],
    ['a', 'Path must start with / character'],
    ['/a/', 'Path must not end with / character'],
    ['/a//b', 'empty node name specified @3'],
    ['/a/./b', 'relative paths not allowed @3'],
    ['/a/..', 'relative paths not allowed @4'],
    ['/a\u0000b', 'null character not allowed @2'],
    ['/a\u0001', 'invalid character @2'],
    ['/a\ud800', 'invalid character @2'],
    ['/a\ufff5', 'invalid character @2'],
  ])('%j -> %s', (path, reason) => {
    expect(pathError(path)).toBe(reason);
  });

  it('allows a trailing slash only for sequential creates', () => {
    expect(pathError('/a/', true)).toBeNull();
  });
});
