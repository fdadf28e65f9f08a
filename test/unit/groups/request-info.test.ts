import { describe, expect, it } from 'vitest';
import { clientHostOf } from '../../../src/broker/groups/request-info.js';

const host = (remoteAddress: string) => clientHostOf({ connection: { id: 1, remoteAddress } } as never);

describe('clientHostOf', () => {
  it('prints the address as Java does, without the port', () => {
    expect(host('127.0.0.1:58342')).toBe('/127.0.0.1');
    expect(host('::ffff:127.0.0.1:5555')).toBe('/127.0.0.1');
    expect(host('::1:4444')).toBe('/::1');
    expect(host('[::1]:4444')).toBe('/::1');
    expect(host('::ffff:127.0.0.1')).toBe('/127.0.0.1');
    expect(host('10.1.2.3')).toBe('/10.1.2.3');
  });
});
