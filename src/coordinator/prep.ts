// Write validation: turns a write request into the transaction that will be logged and applied,
// or into a ZooKeeper error code (PrepRequestProcessor). Errors are transactions too: a failed
// write still consumes a zxid, as in ZooKeeper.
//
// Checks run against a PrepView: the tree plus the changes already prepped in the same multi,
// so `multi[create /a, create /a/b]` validates and a failing multi leaves the tree untouched.
import {
  type ACL,
  CreateFlags,
  type CreateRequest,
  ErrorCode,
  type MultiOp,
  type MultiRequest,
  OpCode,
  OPEN_ACL_UNSAFE,
  type PathVersionRequest,
  type SetACLRequest,
  type SetDataRequest,
  parentPath,
  pathError,
} from '../protocol/zookeeper/index.js';
import { DataTree } from './data-tree.js';
import { NodeKind, type NodeKindValue, type Txn } from './txn.js';

export class KeeperError extends Error {
  constructor(readonly code: number, readonly path?: string) {
    super(`KeeperErrorCode ${code}${path ? ` for ${path}` : ''}`);
  }
}

/** The fields prep needs from a node, as they will be after earlier ops of the same multi. */
interface NodeView {
  version: number;
  aversion: number;
  creations: number;
  numChildren: number;
  kind: NodeKindValue;
}

/** EphemeralType.TTL's limit: TTLs are stored in 40 bits. */
export const MAX_TTL = 0xff_ffff_ffff;

export class PrepView {
  private overlay: Map<string, NodeView | null> | null = null;

  constructor(private readonly tree: DataTree) {}

  get(path: string): NodeView | undefined {
    if (this.overlay?.has(path)) return this.overlay.get(path) ?? undefined;
    const n = this.tree.get(path);
    if (!n) return undefined;
    return { version: n.version, aversion: n.aversion, creations: n.cversion, numChildren: n.children.size, kind: n.kind };
  }

  set(path: string, v: NodeView | null): void {
    (this.overlay ??= new Map()).set(path, v);
  }
}

export interface PrepContext {
  tree: DataTree;
  /** Ids the connection authenticated as (addauth), for the `auth` ACL scheme. */
  authIds: { scheme: string; id: string }[];
  extendedTypesEnabled: boolean;
}

/** Validates one write op into its txn, updating the view; throws KeeperError. */
export function prepOp(ctx: PrepContext, view: PrepView, op: MultiOp | SetACLRequest): Txn {
  switch (op.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return prepCreate(ctx, view, op);
    case OpCode.delete:
      return prepDelete(view, op);
    case OpCode.setData:
      return prepSetData(view, op);
    case OpCode.setACL:
      return prepSetACL(ctx, view, op);
    case OpCode.check:
      return prepCheck(view, op);
    default:
      // getData/getChildren inside a write multi: ZooKeeper refuses to mix reads and writes.
      throw new KeeperError(ErrorCode.MarshallingError);
  }
}

/** A whole multi: all ops or none. A failure becomes a multi of error txns (0, err, -2 ...). */
export function prepMulti(ctx: PrepContext, req: MultiRequest): Txn {
  const view = new PrepView(ctx.tree);
  const txns: Txn[] = [];
  for (let i = 0; i < req.ops.length; i++) {
    try {
      txns.push(prepOp(ctx, view, req.ops[i]));
    } catch (e) {
      if (!(e instanceof KeeperError)) throw e;
      return {
        type: OpCode.multi,
        txns: req.ops.map((_, j) => ({
          type: OpCode.error,
          err: j < i ? ErrorCode.Ok : j === i ? e.code : ErrorCode.RuntimeInconsistency,
        })),
      };
    }
  }
  return { type: OpCode.multi, txns };
}

function prepCreate(ctx: PrepContext, view: PrepView, req: CreateRequest): Txn {
  const flags = req.flags;
  if (flags < CreateFlags.persistent || flags > CreateFlags.persistentSequentialWithTTL) throw new KeeperError(ErrorCode.BadArguments, req.path);
  const isTTLMode = flags === CreateFlags.persistentWithTTL || flags === CreateFlags.persistentSequentialWithTTL;
  if (isTTLMode && !ctx.extendedTypesEnabled) throw new KeeperError(ErrorCode.Unimplemented, req.path);
  const ttl = req.type === OpCode.createTTL ? (req.ttl ?? -1) : -1;
  if (isTTLMode ? ttl <= 0 || ttl > MAX_TTL : ttl >= 0) throw new KeeperError(ErrorCode.BadArguments, req.path);
  const sequential = flags === CreateFlags.persistentSequential || flags === CreateFlags.ephemeralSequential || flags === CreateFlags.persistentSequentialWithTTL;
  let path = req.path;
  if (pathError(path, sequential) !== null || DataTree.isReserved(path)) throw new KeeperError(ErrorCode.BadArguments, path);
  const acl = fixupACL(ctx, req.acl, path);
  const parent = parentPath(path);
  const p = view.get(parent);
  if (!p) throw new KeeperError(ErrorCode.NoNode, path);
  if (sequential) path += String(p.creations).padStart(10, '0');
  if (pathError(path) !== null) throw new KeeperError(ErrorCode.BadArguments, path);
  if (view.get(path)) throw new KeeperError(ErrorCode.NodeExists, path);
  if (p.kind === NodeKind.ephemeral) throw new KeeperError(ErrorCode.NoChildrenForEphemerals, path);
  const kind: NodeKindValue =
    req.type === OpCode.createContainer
      ? NodeKind.container
      : req.type === OpCode.createTTL
        ? NodeKind.ttl
        : flags === CreateFlags.ephemeral || flags === CreateFlags.ephemeralSequential
          ? NodeKind.ephemeral
          : NodeKind.persistent;
  view.set(parent, { ...p, creations: p.creations + 1, numChildren: p.numChildren + 1 });
  view.set(path, { version: 0, aversion: 0, creations: 0, numChildren: 0, kind });
  return { type: OpCode.create, path, data: req.data === null ? null : Buffer.from(req.data), acl, kind, ttl: kind === NodeKind.ttl ? ttl : 0 };
}

function prepDelete(view: PrepView, req: PathVersionRequest): Txn {
  const path = req.path;
  if (path.lastIndexOf('/') === -1 || path.includes('\0') || DataTree.isReserved(path)) throw new KeeperError(ErrorCode.BadArguments, path);
  const parent = parentPath(path);
  const p = view.get(parent);
  const n = view.get(path);
  if (!p || !n) throw new KeeperError(ErrorCode.NoNode, path);
  checkVersion(n.version, req.version, path);
  if (n.numChildren > 0) throw new KeeperError(ErrorCode.NotEmpty, path);
  view.set(parent, { ...p, numChildren: p.numChildren - 1 });
  view.set(path, null);
  return { type: OpCode.delete, path };
}

function prepSetData(view: PrepView, req: SetDataRequest): Txn {
  validatePath(req.path);
  const n = view.get(req.path);
  if (!n) throw new KeeperError(ErrorCode.NoNode, req.path);
  const version = checkVersion(n.version, req.version, req.path);
  view.set(req.path, { ...n, version });
  return { type: OpCode.setData, path: req.path, data: req.data === null ? null : Buffer.from(req.data), version };
}

function prepSetACL(ctx: PrepContext, view: PrepView, req: SetACLRequest): Txn {
  validatePath(req.path);
  const acl = fixupACL(ctx, req.acl, req.path);
  const n = view.get(req.path);
  if (!n) throw new KeeperError(ErrorCode.NoNode, req.path);
  const version = checkVersion(n.aversion, req.version, req.path);
  view.set(req.path, { ...n, aversion: version });
  return { type: OpCode.setACL, path: req.path, acl, version };
}

function prepCheck(view: PrepView, req: PathVersionRequest): Txn {
  validatePath(req.path);
  const n = view.get(req.path);
  if (!n) throw new KeeperError(ErrorCode.NoNode, req.path);
  checkVersion(n.version, req.version, req.path);
  return { type: OpCode.check, path: req.path, version: req.version };
}

function validatePath(path: string): void {
  if (pathError(path) !== null) throw new KeeperError(ErrorCode.BadArguments, path);
}

/** -1 matches any version; the next version skips -1 (ZOOKEEPER-4743). */
function checkVersion(current: number, expected: number, path: string): number {
  if (expected !== -1 && expected !== current) throw new KeeperError(ErrorCode.BadVersion, path);
  const next = (current + 1) | 0;
  return next === -1 ? 0 : next;
}

const KNOWN_SCHEMES = new Set(['digest', 'ip', 'sasl', 'x509', 'super']);

/**
 * ZooKeeper's fixupACL: non-empty, duplicates dropped, `auth` expanded to the caller's
 * authenticated ids, unknown schemes refused. ACLs are stored and returned; kts does not
 * enforce them (Kafka runs with world:anyone unless zookeeper.set.acl=true).
 */
function fixupACL(ctx: PrepContext, acl: ACL[], path: string): ACL[] {
  if (acl.length === 0) throw new KeeperError(ErrorCode.InvalidACL, path);
  if (acl.length === 1 && isOpen(acl[0])) return OPEN_ACL_UNSAFE as ACL[];
  const out: ACL[] = [];
  const seen = new Set<string>();
  const push = (a: ACL) => {
    const key = `${a.perms}:${a.id.scheme}:${a.id.id}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ perms: a.perms, id: { scheme: a.id.scheme, id: a.id.id } });
    }
  };
  for (const a of acl) {
    if (a.id.scheme === 'world' && a.id.id === 'anyone') push(a);
    else if (a.id.scheme === 'auth') {
      if (ctx.authIds.length === 0) throw new KeeperError(ErrorCode.InvalidACL, path);
      for (const id of ctx.authIds) push({ perms: a.perms, id });
    } else if (KNOWN_SCHEMES.has(a.id.scheme) && (a.id.scheme !== 'digest' || a.id.id.includes(':'))) push(a);
    else throw new KeeperError(ErrorCode.InvalidACL, path);
  }
  return out;
}

function isOpen(a: ACL): boolean {
  return a.perms === 31 && a.id.scheme === 'world' && a.id.id === 'anyone';
}
