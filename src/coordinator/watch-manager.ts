// Server-side watches, per connection (a new connection re-sends its watches with setWatches).
// Two tables as in ZooKeeper's DataTree: data watches (getData, exists, also on missing nodes)
// and child watches (getChildren). A watch is one-shot (standard) or persistent; persistent-
// recursive watches live in their own table because they also match descendants.
//
// Which event reaches which table (DataTree.createNode/deleteNode/setData):
//   NodeCreated, NodeDataChanged at p   -> data watches on p, recursive watches on p and ancestors
//   NodeDeleted at p                     -> data and child watches on p, recursive on p and ancestors
//   NodeChildrenChanged at p (a parent)  -> child watches on p (never recursive watches)
// A connection gets at most one notification per event, whatever matched.
import { EventType, WatcherType } from '../protocol/zookeeper/index.js';
import type { TreeEvent } from './data-tree.js';

export interface Watcher {
  /** Deliver a WatcherEvent; the connection orders it before any later reply. */
  notify(type: number, path: string, zxid: number): void;
}

const STANDARD = 1;
const PERSISTENT = 2;

type Table = Map<string, Map<Watcher, number>>;

export class WatchManager {
  private readonly data: Table = new Map();
  private readonly child: Table = new Map();
  private readonly recursive = new Map<string, Set<Watcher>>();
  /** Reverse index, so a closing connection drops its watches without a scan. */
  private readonly byWatcher = new Map<Watcher, Set<string>>();

  addDataWatch(path: string, w: Watcher): void {
    this.add(this.data, path, w, STANDARD);
  }

  addChildWatch(path: string, w: Watcher): void {
    this.add(this.child, path, w, STANDARD);
  }

  /** addWatch mode 0 (persistent) or 1 (persistent-recursive). */
  addPersistentWatch(path: string, w: Watcher, recursive: boolean): void {
    if (recursive) {
      let set = this.recursive.get(path);
      if (!set) this.recursive.set(path, (set = new Set()));
      set.add(w);
      this.remember(w, `r${path}`);
    } else {
      this.add(this.data, path, w, PERSISTENT);
      this.add(this.child, path, w, PERSISTENT);
    }
  }

  /** checkWatches (17). */
  contains(path: string, type: number, w: Watcher): boolean {
    const inData = (this.data.get(path)?.has(w) ?? false) || (this.recursive.get(path)?.has(w) ?? false);
    const inChild = this.child.get(path)?.has(w) ?? false;
    if (type === WatcherType.children) return inChild;
    if (type === WatcherType.data) return inData;
    return inData || inChild;
  }

  /** removeWatches (18): true when something was removed. */
  remove(path: string, type: number, w: Watcher): boolean {
    let removed = false;
    if (type !== WatcherType.data) removed = this.removeFrom(this.child, path, w) || removed;
    if (type !== WatcherType.children) {
      removed = this.removeFrom(this.data, path, w) || removed;
      const set = this.recursive.get(path);
      if (set?.delete(w)) {
        removed = true;
        if (set.size === 0) this.recursive.delete(path);
      }
    }
    return removed;
  }

  removeWatcher(w: Watcher): void {
    const keys = this.byWatcher.get(w);
    if (!keys) return;
    this.byWatcher.delete(w);
    for (const key of keys) {
      const path = key.slice(1);
      if (key[0] === 'd') deleteIn(this.data, path, w);
      else if (key[0] === 'c') deleteIn(this.child, path, w);
      else {
        const set = this.recursive.get(path);
        set?.delete(w);
        if (set?.size === 0) this.recursive.delete(path);
      }
    }
  }

  /** Watches currently registered (mntr's zk_watch_count). */
  count(): number {
    let n = 0;
    for (const m of this.data.values()) n += m.size;
    for (const m of this.child.values()) n += m.size;
    for (const s of this.recursive.values()) n += s.size;
    return n;
  }

  /** Watch count per connection (for `stat`/`cons`-style output). */
  countFor(w: Watcher): number {
    return this.byWatcher.get(w)?.size ?? 0;
  }

  trigger(events: readonly TreeEvent[], zxid: number): void {
    for (const e of events) this.triggerOne(e, zxid);
  }

  private triggerOne(e: TreeEvent, zxid: number): void {
    const fired = new Set<Watcher>();
    if (e.type === EventType.NodeChildrenChanged) {
      this.fire(this.child, e, zxid, fired);
      return;
    }
    this.fire(this.data, e, zxid, fired);
    if (e.type === EventType.NodeDeleted) this.fire(this.child, e, zxid, fired);
    if (this.recursive.size === 0) return;
    for (let p = e.path; ; p = p.slice(0, Math.max(1, p.lastIndexOf('/')))) {
      const set = this.recursive.get(p);
      if (set) {
        for (const w of set) {
          if (fired.has(w)) continue;
          fired.add(w);
          w.notify(e.type, e.path, zxid);
        }
      }
      if (p === '/') break;
    }
  }

  private fire(table: Table, e: TreeEvent, zxid: number, fired: Set<Watcher>): void {
    const watchers = table.get(e.path);
    if (!watchers) return;
    const tag = table === this.data ? 'd' : 'c';
    for (const [w, mode] of watchers) {
      if (mode & STANDARD) {
        const rest = mode & ~STANDARD;
        if (rest) watchers.set(w, rest);
        else {
          watchers.delete(w);
          this.byWatcher.get(w)?.delete(tag + e.path);
        }
      }
      if (fired.has(w)) continue;
      fired.add(w);
      w.notify(e.type, e.path, zxid);
    }
    if (watchers.size === 0) table.delete(e.path);
  }

  private add(table: Table, path: string, w: Watcher, bit: number): void {
    let m = table.get(path);
    if (!m) table.set(path, (m = new Map()));
    m.set(w, (m.get(w) ?? 0) | bit);
    this.remember(w, (table === this.data ? 'd' : 'c') + path);
  }

  private remember(w: Watcher, key: string): void {
    let keys = this.byWatcher.get(w);
    if (!keys) this.byWatcher.set(w, (keys = new Set()));
    keys.add(key);
  }

  private removeFrom(table: Table, path: string, w: Watcher): boolean {
    if (!table.get(path)?.has(w)) return false;
    deleteIn(table, path, w);
    this.byWatcher.get(w)?.delete((table === this.data ? 'd' : 'c') + path);
    return true;
  }
}

function deleteIn(table: Table, path: string, w: Watcher): void {
  const m = table.get(path);
  if (!m) return;
  m.delete(w);
  if (m.size === 0) table.delete(path);
}
