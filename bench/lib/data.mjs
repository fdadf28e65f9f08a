// The bench's data files: 1 M lines of 99 B + newline (JSON-like, so codecs have something realistic
// to chew on) and 100 k lines of 1 KiB, the same bytes in every run (a fixed seed).
import { writeFileSync } from 'node:fs';

/** Writes `count` lines of `size` bytes (newline included) to `path`; returns `path`. */
export function makeLines(count, size, path) {
  const buf = Buffer.alloc(count * size);
  const words = ['page_view', 'click', 'add_to_cart', 'checkout', 'search', 'login', 'logout', 'scroll'];
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < count; i++) {
    let s = `{"seq":${i},"user":"user-${Math.floor(rnd() * 100000)}","event":"${words[i & 7]}","path":"/p/${Math.floor(rnd() * 1e6)}","ms":${Math.floor(rnd() * 5000)}`;
    while (s.length < size - 3) s += String.fromCharCode(97 + Math.floor(rnd() * 26));
    s = (s + '"}').slice(0, size - 2) + '}';
    buf.write(s.padEnd(size - 1, ' '), i * size, 'latin1');
    buf[i * size + size - 1] = 10;
  }
  writeFileSync(path, buf);
  return path;
}
