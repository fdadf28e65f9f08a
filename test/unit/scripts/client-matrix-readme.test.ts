// The README's client table is what test/e2e/clients/matrix.json (the expectations the client
// matrix suite holds every cell to) says: regenerate it with node scripts/client-matrix-readme.mjs.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain ES module script without types
import { README, readmeSection, renderMatrix } from '../../../scripts/client-matrix-readme.mjs';

describe('README client matrix', () => {
  const matrix = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../e2e/clients/matrix.json'), 'utf8'));

  it('equals the table generated from matrix.json', () => {
    expect(readmeSection(readFileSync(README, 'utf8'))).toBe(renderMatrix(matrix));
  });

  it('names every feature for every client, and every limitation has its reason and what shows it', () => {
    for (const c of Object.values<any>(matrix.clients)) {
      if (c.unavailable) continue;
      for (const [feature, cell] of Object.entries<any>(c.cells ?? {})) {
        expect(Object.keys(matrix.features)).toContain(feature);
        expect(cell.limited.length).toBeGreaterThan(10);
        expect(typeof cell.shows).toBe('string');
      }
    }
  });
});
