// "Did you mean": typos (one or two edits, a swap of neighbours) and parts of a name.
import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, suggest } from '../../../src/cli/suggest.js';

const OPTIONS = ['list', 'alter', 'describe', 'delete', 'delete-config', 'bootstrap-server', 'topic', 'topic-id', 'partitions'];

describe('suggestions', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('lsit', 'list')).toBe(1);
    expect(editDistance('lst', 'list')).toBe(1);
    expect(editDistance('topics', 'topics')).toBe(0);
  });

  it('suggests near misses, best first, and parts when nothing is near', () => {
    expect(suggest('lst', OPTIONS)).toEqual(['list']);
    expect(suggest('describ', OPTIONS)).toEqual(['describe']);
    expect(suggest('partition', OPTIONS)).toEqual(['partitions']);
    expect(suggest('bootstrap', OPTIONS)).toEqual(['bootstrap-server']);
    expect(suggest('zzzz', OPTIONS)).toEqual([]);
    // A short word is not "near" everything.
    expect(suggest('x', OPTIONS)).toEqual([]);
    expect(suggest('a'.repeat(10_000), OPTIONS)).toEqual([]);
  });

  it('words the hint', () => {
    expect(didYouMean('topic', ['topics', 'configs'])).toBe("Did you mean 'topics'?");
    expect(didYouMean('lst', OPTIONS, (o) => `--${o}`)).toBe('Did you mean --list?');
    expect(didYouMean('consumer', ['console-consumer', 'consumer-groups'])).toBe("Did you mean one of: 'console-consumer', 'consumer-groups'?");
    expect(didYouMean('qqqq', OPTIONS)).toBeUndefined();
  });
});
