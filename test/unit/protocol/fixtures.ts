// Loads the hex fixtures under test/fixtures/protocol (whitespace and `#` comments ignored).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/protocol');

export function hex(text: string): Buffer {
  const clean = text.replace(/#.*$/gm, '').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new Error(`bad hex: ${clean.slice(0, 40)}`);
  return Buffer.from(clean, 'hex');
}

export function loadHex(relative: string): Buffer {
  return hex(readFileSync(join(FIXTURES, relative), 'utf8'));
}

export interface CapturedFrame {
  file: string;
  client: string;
  api: string;
  version: number;
  /** The request frame without its 4-byte size prefix. */
  frame: Buffer;
}

export function capturedFrames(): CapturedFrame[] {
  return readdirSync(join(FIXTURES, 'captured'))
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((file) => {
      const m = /^(.+)-([A-Za-z]+)-v(\d+)\.hex$/.exec(file);
      if (!m) throw new Error(`unexpected fixture name ${file}`);
      return { file, client: m[1], api: m[2], version: Number(m[3]), frame: loadHex(`captured/${file}`) };
    });
}

export const concat = (chunks: Buffer[]): Buffer => Buffer.concat(chunks);
