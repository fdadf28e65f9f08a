// Which watch gets which event (DataTree's triggers), one notification per event per connection.
import { describe, expect, it } from 'vitest';
import { WatchManager, type Watcher } from '../../../src/coordinator/watch-manager.js';
import { EventType, WatcherType } from '../../../src/protocol/zookeeper/index.js';

function conn(): Watcher & { got: string[] } {
  const got: string[] = [];
  return { got, notify: (type, path) => got.push(`${type}@${path}`) };
}

const created = (path: string) => ({ type: EventType.NodeCreated, path });
const deleted = (path: string) => ({ type: EventType.NodeDeleted, path });
const changed = (path: string) => ({ type: EventType.NodeDataChanged, path });
const children = (path: string) => ({ type: EventType.NodeChildrenChanged, path });

describe('WatchManager', () => {
  it('standard watches fire once', () => {
    const wm = new WatchManager();
    const c = conn();
    wm.addDataWatch('/a', c);
    wm.addChildWatch('/a', c);
    wm.trigger([changed('/a'), children('/a')], 1);
    wm.trigger([changed('/a'), children('/a')], 2);
    expect(c.got).toEqual(['3@/a', '4@/a']);
    expect(wm.count()).toBe(0);
  });

  it('a delete reaches data and child watches on the node, once per connection', () => {
    const wm = new WatchManager();
    const c = conn();
    const other = conn();
    wm.addDataWatch('/a', c);
    wm.addChildWatch('/a', c);
    wm.addChildWatch('/a', other);
    wm.addChildWatch('/', other);
    wm.trigger([deleted('/a'), children('/')], 1);
    expect(c.got).toEqual(['2@/a']);
    expect(other.got).toEqual(['2@/a', '4@/']);
  });

  it('persistent watches stay; recursive ones see descendants but never NodeChildrenChanged', () => {
    const wm = new WatchManager();
    const p = conn();
    const r = conn();
    wm.addPersistentWatch('/a', p, false);
    wm.addPersistentWatch('/a', r, true);
    wm.addDataWatch('/a/b', r); // r also has a one-shot watch: still one notification per event
    wm.trigger([created('/a/b'), children('/a')], 1);
    wm.trigger([changed('/a'), changed('/a/b'), changed('/a')], 2);
    expect(p.got).toEqual(['4@/a', '3@/a', '3@/a']);
    expect(r.got).toEqual(['1@/a/b', '3@/a', '3@/a/b', '3@/a']);
  });

  it('checkWatches / removeWatches by type, and dropping a closed connection', () => {
    const wm = new WatchManager();
    const c = conn();
    wm.addDataWatch('/a', c);
    wm.addChildWatch('/b', c);
    expect(wm.contains('/a', WatcherType.data, c)).toBe(true);
    expect(wm.contains('/a', WatcherType.children, c)).toBe(false);
    expect(wm.remove('/a', WatcherType.children, c)).toBe(false);
    expect(wm.remove('/a', WatcherType.any, c)).toBe(true);
    expect(wm.count()).toBe(1);
    wm.removeWatcher(c);
    expect(wm.count()).toBe(0);
    wm.trigger([children('/b')], 1);
    expect(c.got).toEqual([]);
  });
});
