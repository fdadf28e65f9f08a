// zoo.cfg keys -> coordinator options; connect strings -> hosts + chroot.
import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { coordinatorOptionsFromProperties } from '../../../src/coordinator/config.js';
import { parseProperties } from '../../../src/config/properties.js';
import { parseConnectString, prependChroot, stripChroot } from '../../../src/cluster/zookeeper/connect-string.js';

describe('coordinatorOptionsFromProperties', () => {
  it("reads Kafka's config/zookeeper.properties keys", () => {
    const o = coordinatorOptionsFromProperties(
      parseProperties(
        [
          'dataDir=/var/zk',
          'dataLogDir=logs',
          'clientPort=2182',
          'clientPortAddress=0.0.0.0',
          'tickTime=1000',
          'maxSessionTimeout=-1',
          'maxClientCnxns=0',
          '4lw.commands.whitelist=ruok, srvr ,mntr',
          'autopurge.snapRetainCount=5',
          'autopurge.purgeInterval=1',
          'admin.enableServer=false',
        ].join('\n'),
      ),
      '/etc/kafka',
    );
    expect(o).toMatchObject({
      dataDir: '/var/zk',
      dataLogDir: '/etc/kafka/logs',
      port: 2182,
      host: '0.0.0.0',
      tickTime: 1000,
      maxSessionTimeout: undefined,
      maxClientCnxns: 0,
      fourLetterWhitelist: ['ruok', 'srvr', 'mntr'],
      snapRetainCount: 5,
      purgeIntervalHours: 1,
    });
  });

  it('defaults: port 2181, ~/.kts/zookeeper, loopback chosen by the server', () => {
    const o = coordinatorOptionsFromProperties(new Map());
    expect(o.port).toBe(2181);
    expect(o.dataDir).toBe(`${homedir()}/.kts/zookeeper`);
    expect(o.host).toBeUndefined();
    expect(o.fourLetterWhitelist).toBeUndefined();
  });

  it('rejects a non-numeric value', () => {
    expect(() => coordinatorOptionsFromProperties(new Map([['tickTime', 'fast']]))).toThrow(/tickTime/);
  });
});

describe('parseConnectString', () => {
  it('hosts, default port, IPv6 and chroot', () => {
    expect(parseConnectString('a:1,b,[::1]:3/kafka/x/')).toEqual({
      hosts: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2181 },
        { host: '::1', port: 3 },
      ],
      chroot: '/kafka/x',
    });
    expect(parseConnectString('h:2181/').chroot).toBe('');
    expect(() => parseConnectString('h:2181/a//b')).toThrow(/chroot/);
    expect(() => parseConnectString('')).toThrow();
  });

  it('maps paths in and out of the chroot', () => {
    expect(prependChroot('/kafka', '/')).toBe('/kafka');
    expect(prependChroot('/kafka', '/a')).toBe('/kafka/a');
    expect(stripChroot('/kafka', '/kafka')).toBe('/');
    expect(stripChroot('/kafka', '/kafka/a')).toBe('/a');
    expect(stripChroot('', '/a')).toBe('/a');
  });
});
