// The broker logger's levels: log4j-style inheritance, changed at run time (broker-logger configs).
import { describe, expect, it } from 'vitest';
import { LoggerLevels, createLogger, levelName, parseLevelName } from '../../../src/broker/logger.js';

describe('broker logger levels', () => {
  it('children inherit from the nearest ancestor with a level, else root; set/unset change output at once', () => {
    const lines: string[] = [];
    const root = createLogger({ component: 'kts.broker', write: (l) => lines.push(l) });
    const log = root.child('log');
    const request = root.child('request');
    expect(root.levels).toBe(log.levels);
    expect(log.name).toBe('kts.broker.log');
    expect(root.levels.list()).toEqual([
      { name: 'root', level: 'info' },
      { name: 'kts.broker', level: 'info' },
      { name: 'kts.broker.log', level: 'info' },
      { name: 'kts.broker.request', level: 'info' },
    ]);
    request.debug('hidden');
    expect(root.levels.set('kts.broker.request', 'debug')).toBe(true);
    expect(request.isDebugEnabled()).toBe(true);
    request.debug('shown');
    expect(root.levels.set('kts.broker', 'warn')).toBe(true);
    log.info('hidden');
    log.warn('warned');
    expect(root.levels.effective('kts.broker.log')).toBe('warn');
    expect(root.levels.effective('kts.broker.request')).toBe('debug');
    expect(root.levels.unset('kts.broker')).toBe(true);
    log.info('back');
    expect(lines.map((l) => l.replace(/^\[[^\]]+\] /, ''))).toEqual([
      'DEBUG shown (kts.broker.request)',
      'WARN warned (kts.broker.log)',
      'INFO back (kts.broker.log)',
    ]);
  });

  it('knows only registered loggers; root can be set but not unset', () => {
    const levels = new LoggerLevels('silent');
    levels.register('a.b');
    expect(levels.exists('root')).toBe(true);
    expect(levels.exists('a')).toBe(false);
    expect(levels.set('a', 'debug')).toBe(false);
    expect(levels.unset('root')).toBe(false);
    expect(levels.effective('a.b')).toBe('silent');
    expect(levels.set('root', 'error')).toBe(true);
    expect(levels.effective('a.b')).toBe('error');
    expect(levelName('silent')).toBe('OFF');
    expect(parseLevelName('TRACE')).toBe('trace');
    expect(parseLevelName('debug')).toBeUndefined();
    expect(parseLevelName('OFF')).toBeUndefined();
  });
});
