// Kafka's Sanitizer (user principals as ZooKeeper node names) and the names a znode cannot hold.
import { describe, expect, it } from 'vitest';
import { desanitize, sanitize, znodeNameProblem } from '../../../src/cluster/zk-names.js';

describe('zk-names', () => {
  it('sanitize encodes as java.net.URLEncoder with * as %2A and a space as %20, as Kafka', () => {
    expect(sanitize('alice')).toBe('alice');
    expect(sanitize('a.b_c-d')).toBe('a.b_c-d');
    expect(sanitize('team/alice')).toBe('team%2Falice');
    expect(sanitize('a b*c+d')).toBe('a%20b%2Ac%2Bd');
    expect(sanitize('CN=x,O=y')).toBe('CN%3Dx%2CO%3Dy');
    expect(sanitize('üñ')).toBe('%C3%BC%C3%B1');
    expect(sanitize('..')).toBe('..');
  });

  it('desanitize reverses it (and reads + as a space, as URLDecoder)', () => {
    for (const name of ['team/alice', 'a b*c+d', 'CN=x,O=y', 'üñ', '%41']) expect(desanitize(sanitize(name))).toBe(name);
    expect(desanitize('a+b')).toBe('a b');
    expect(desanitize('bad%zz')).toBe('bad%zz');
  });

  it('znodeNameProblem names what ZooKeeper refuses', () => {
    expect(znodeNameProblem('orders')).toBeUndefined();
    expect(znodeNameProblem('apps/orders')).toMatch(/contains '\/'/);
    expect(znodeNameProblem('..')).toMatch(/relative path component/);
    expect(znodeNameProblem('a\u0001b')).toMatch(/U\+0001/);
    expect(znodeNameProblem('*')).toBeUndefined();
  });
});
