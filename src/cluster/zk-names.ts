// Names that become ZooKeeper node names. ZooKeeper splits paths on '/' and refuses '.' and '..' as
// components and some code points (control characters, surrogates, U+FFF0-U+FFFF) anywhere.
// Kafka URL-encodes user principals and client ids for their znodes (Sanitizer.sanitize:
// /config/users/<sanitized>); ACL resource names go in raw (/kafka-acl/Group/<name>), so a name
// ZooKeeper cannot hold there is refused (znodeNameProblem).

const UNRESERVED = /[A-Za-z0-9._\-]/;

/** Kafka's Sanitizer.sanitize: java.net.URLEncoder's form with '*' as %2A and a space as %20. */
export function sanitize(name: string): string {
  let out = '';
  for (const ch of name) {
    if (UNRESERVED.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Kafka's Sanitizer.desanitize (URLDecoder: '+' is a space). A malformed escape is kept as it is. */
export function desanitize(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** Why ZooKeeper would refuse `name` as one node name (undefined: it can hold it). */
export function znodeNameProblem(name: string): string | undefined {
  if (name.includes('/')) return "it contains '/', ZooKeeper's path separator";
  if (name === '.' || name === '..') return `'${name}' is a relative path component`;
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c === 0 || (c > 0 && c < 0x20) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) {
      return `it contains U+${c.toString(16).toUpperCase().padStart(4, '0')}, which ZooKeeper does not allow in a node name`;
    }
  }
  return undefined;
}
