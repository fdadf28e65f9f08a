// The terminal tables: widths fitted to the terminal, values cut in the middle, tones applied
// after the cut (so escape sequences never count as width).
import { describe, expect, it } from 'vitest';
import { fitWidths, renderTable, truncateMiddle, visibleLength, type Painter } from '../../../src/cli/table.js';

const plainPaint: Painter = (_tone, text) => text;
const markPaint: Painter = (tone, text) => `\x1b[${tone === 'head' ? 36 : tone === 'bad' ? 31 : 33}m${text}\x1b[39m`;

describe('terminal tables', () => {
  it('cuts in the middle, keeping both ends', () => {
    expect(truncateMiddle('consumer-1-0f9e8d7c-6b5a-4321', 11)).toBe('consu…-4321');
    expect(truncateMiddle('short', 11)).toBe('short');
    expect(truncateMiddle('abc', 1)).toBe('…');
    expect(visibleLength(truncateMiddle('x'.repeat(100), 20))).toBe(20);
  });

  it('gives way from the widest column, values before headers', () => {
    expect(fitWidths([5, 40, 10], undefined)).toEqual([5, 40, 10]);
    expect(fitWidths([5, 40, 10], 80)).toEqual([5, 40, 10]);
    // 5 + 2 + w + 2 + 10 = 40: the 40-wide column takes the whole cut.
    expect(fitWidths([5, 40, 10], 40, [5, 11, 10])).toEqual([5, 21, 10]);
    // Past the headers, down to 6 each, then to 1.
    expect(fitWidths([20, 20], 20, [20, 20])).toEqual([9, 9]);
    expect(fitWidths([20, 20], 8, [20, 20]).reduce((a, b) => a + b) + 2).toBeLessThanOrEqual(8);
  });

  it('renders a header and one line per row, numbers to the right, within the width', () => {
    const lines = renderTable(
      { head: ['TOPIC', 'PART', 'CONSUMER-ID'], rows: [['orders', 0, 'consumer-1-0f9e8d7c-6b5a-4321-a0b1-c2d3e4f5a6b7'], ['payments', 10, '-']] },
      plainPaint,
      40,
    );
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('TOPIC     PART  CONSUMER-ID');
    expect(lines[2]).toBe('payments    10  -');
    expect(lines[1]).toMatch(/^orders {7}0 {2}consumer-1-0\S*…\S*a6b7$/);
    expect(Math.max(...lines.map(visibleLength))).toBeLessThanOrEqual(40);
  });

  it('colours after cutting: escape sequences take no width and are never cut in half', () => {
    const lines = renderTable({ head: ['PART', 'LAG'], rows: [[0, { text: '123456789012', tone: 'warn' }], [1, { text: 'none', tone: 'bad' }]] }, markPaint, 12);
    expect(lines.map(visibleLength).every((n) => n <= 12)).toBe(true);
    expect(lines[1]).toContain('\x1b[33m');
    expect(lines[1]).toMatch(/\x1b\[33m\d+…\d+\x1b\[39m$/);
    expect(lines[2]).toContain('\x1b[31mnone\x1b[39m');
  });

  it('a table narrower than its columns at their minimum is still cut to the width', () => {
    const lines = renderTable({ head: ['A', 'B', 'C', 'D', 'E'], rows: [['aaaaaaaa', 'bbbbbbbb', 'cccccccc', 'dddddddd', 'eeeeeeee']] }, markPaint, 10);
    expect(lines.map(visibleLength).every((n) => n <= 10)).toBe(true);
  });
});
