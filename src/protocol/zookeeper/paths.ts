// Znode path rules, as ZooKeeper's PathUtils.validatePath applies them on both client and
// server: absolute, no trailing '/', no empty, '.' or '..' segments, no NUL, control, surrogate,
// private-use or U+FFF0..U+FFFF characters. A sequential create may end in '/' (the server
// appends the counter), so it is checked with a digit appended.

/** Why `path` is not a valid znode path, or null when it is. */
export function pathError(path: string, sequential = false): string | null {
  if (sequential) path += '1';
  if (path.length === 0) return 'Path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'Path must start with / character';
  if (path.length === 1) return null;
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'Path must not end with / character';
  let prev = 0x2f;
  for (let i = 1; i < path.length; prev = path.charCodeAt(i), i++) {
    const c = path.charCodeAt(i);
    const segmentEnds = i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f;
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && prev === 0x2f) return `empty node name specified @${i}`;
    if (c === 0x2e && prev === 0x2e && path.charCodeAt(i - 2) === 0x2f && segmentEnds) return `relative paths not allowed @${i}`;
    if (c === 0x2e && prev === 0x2f && segmentEnds) return `relative paths not allowed @${i}`;
    if (
      (c > 0 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      c >= 0xfff0
    ) {
      return `invalid character @${i}`;
    }
  }
  return null;
}

export function isValidPath(path: string, sequential = false): boolean {
  return pathError(path, sequential) === null;
}

/** '/a/b' -> '/a'; '/a' -> '/'. */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** '/a/b' -> 'b'. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}
