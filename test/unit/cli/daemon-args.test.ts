import { describe, expect, it } from 'vitest';
import { parseDaemonArgs } from '../../../src/cli/daemon-args.js';

describe('daemon command lines without yargs', () => {
  it('parses the plain forms', () => {
    expect(parseDaemonArgs([], { overrides: true })).toEqual({});
    expect(parseDaemonArgs(['server.properties'], { overrides: true })).toEqual({ config: 'server.properties' });
    expect(parseDaemonArgs(['s.properties', '--override', 'a=1', '--override=b=2'], { overrides: true })).toEqual({
      config: 's.properties',
      override: ['a=1', 'b=2'],
    });
    expect(parseDaemonArgs(['--override', 'log.dirs=/x'], { overrides: true })).toEqual({ override: ['log.dirs=/x'] });
    expect(parseDaemonArgs(['zoo.cfg'], { overrides: false })).toEqual({ config: 'zoo.cfg' });
  });

  it('leaves everything else to yargs', () => {
    for (const args of [['--help'], ['-h'], ['--version'], ['a', 'b'], ['--override'], ['--override', '--help'], ['--bogus'], ['--override', 'a=1', 'b=2']]) {
      expect(parseDaemonArgs(args, { overrides: true }), args.join(' ')).toBeUndefined();
    }
    expect(parseDaemonArgs(['--override', 'a=1'], { overrides: false })).toBeUndefined();
  });

  it('parses the local cluster options of server-start, and leaves odd values to yargs', () => {
    const opts = { overrides: true, numbers: ['brokers', 'port'], strings: ['data-dir'] };
    expect(parseDaemonArgs(['--brokers', '3', '--port=19092', 'c.properties', '--data-dir', '/d', '--override', 'a=1'], opts)).toEqual({
      brokers: 3,
      port: 19092,
      config: 'c.properties',
      'data-dir': '/d',
      override: ['a=1'],
    });
    for (const args of [['--brokers'], ['--brokers', 'x'], ['--brokers', '-1'], ['--brokers=3', '--brokers', '4'], ['--data-dir', '--help'], ['--brokers', '3', '--bogus']]) {
      expect(parseDaemonArgs(args, opts), args.join(' ')).toBeUndefined();
    }
    // Without them in the options, they are unknown: yargs.
    expect(parseDaemonArgs(['--brokers', '3'], { overrides: true })).toBeUndefined();
  });
});
