// Errors a ZooKeeper call can end with, carrying KeeperException's code.
import { ErrorCode, errorName } from '../../protocol/zookeeper/index.js';

export class ZooKeeperError extends Error {
  override name = 'ZooKeeperError';
  constructor(
    readonly code: number,
    readonly path?: string,
    message?: string,
  ) {
    super(message ?? `KeeperErrorCode = ${errorName[code] ?? code}${path ? ` for ${path}` : ''}`);
  }

  get codeName(): string {
    return errorName[this.code] ?? String(this.code);
  }
}

export type OpResult =
  | { op: 'create'; path: string }
  | { op: 'delete' }
  | { op: 'setData'; stat: import('../../protocol/zookeeper/index.js').Stat }
  | { op: 'check' }
  | { op: 'error'; code: number };

/** A failed multi: `code` is the op that failed (as Java's KeeperException), `results` has them all. */
export class MultiError extends ZooKeeperError {
  override name = 'MultiError';
  constructor(
    code: number,
    readonly results: OpResult[],
    readonly failedIndex: number,
  ) {
    super(code, undefined, `multi failed at op ${failedIndex}: KeeperErrorCode = ${errorName[code] ?? code}`);
  }
}

export const isNoNode = (e: unknown) => e instanceof ZooKeeperError && e.code === ErrorCode.NoNode;
export const isNodeExists = (e: unknown) => e instanceof ZooKeeperError && e.code === ErrorCode.NodeExists;
