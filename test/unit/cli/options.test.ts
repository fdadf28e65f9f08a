// The Kafka-style option parser: jopt-simple's token rules and error texts.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/errors.js';
import { parseArgs, rejectCombination, requireOptions, splitAssignment, type OptionSpec } from '../../../src/cli/options.js';

const specs: OptionSpec[] = [
  { name: 'bootstrap-server', arg: 'required', describe: '' },
  { name: 'topic', arg: 'required', describe: '' },
  { name: 'partitions', arg: 'required', type: 'int', describe: '' },
  { name: 'offset', arg: 'required', type: 'long', describe: '' },
  { name: 'shift-by', arg: 'required', type: 'long', describe: '' },
  { name: 'property', arg: 'required', repeatable: true, describe: '' },
  { name: 'compression-codec', arg: 'optional', describe: '' },
  { name: 'list', describe: '' },
  { name: 'describe', describe: '' },
  { name: 'time', arg: 'required', defaultValue: 'latest', describe: '' },
];

const usage = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('no error');
};

describe('parseArgs', () => {
  it('reads --name value and --name=value', () => {
    const a = parseArgs(['--topic', 'orders', '--bootstrap-server=localhost:9092', '--list'], specs);
    expect(a.str('topic')).toBe('orders');
    expect(a.str('bootstrap-server')).toBe('localhost:9092');
    expect(a.has('list')).toBe(true);
    expect(a.has('describe')).toBe(false);
    expect(a.tokenCount).toBe(4);
  });

  it('rejects abbreviations and unknown options with jopt wording', () => {
    expect(usage(() => parseArgs(['--bootstrap', 'x'], specs))).toBe('bootstrap is not a recognized option');
    expect(usage(() => parseArgs(['--foo'], specs))).toBe('foo is not a recognized option');
  });

  it('accepts a single-dash long option when the whole word is known', () => {
    expect(parseArgs(['-topic', 'x'], specs).str('topic')).toBe('x');
  });

  it('a required argument takes the next token even if it starts with a dash', () => {
    expect(parseArgs(['--shift-by', '-5'], specs).int('shift-by')).toBe(-5);
    expect(parseArgs(['--topic', '--list'], specs).str('topic')).toBe('--list');
  });

  it('reports a missing argument', () => {
    expect(usage(() => parseArgs(['--topic'], specs))).toBe('Option topic requires an argument');
  });

  it('an optional argument is taken only if it does not look like an option', () => {
    expect(parseArgs(['--compression-codec', 'lz4'], specs).str('compression-codec')).toBe('lz4');
    const bare = parseArgs(['--compression-codec', '--list'], specs);
    expect(bare.has('compression-codec')).toBe(true);
    expect(bare.str('compression-codec')).toBeUndefined();
    expect(bare.has('list')).toBe(true);
  });

  it('checks numbers up front', () => {
    expect(usage(() => parseArgs(['--partitions', 'abc'], specs))).toBe("Cannot parse argument 'abc' of option partitions");
    expect(usage(() => parseArgs(['--partitions', '3000000000'], specs))).toBe("Cannot parse argument '3000000000' of option partitions");
    expect(parseArgs(['--offset', '3000000000'], specs).int('offset')).toBe(3000000000);
  });

  it('keeps every value of a repeatable option and refuses to pick one of a repeated single option', () => {
    const a = parseArgs(['--property', 'print.key=true', '--property', 'key.separator=,', '--topic', 'a', '--topic', 'b'], specs);
    expect(a.all('property')).toEqual(['print.key=true', 'key.separator=,']);
    expect(usage(() => a.str('topic'))).toBe('Found multiple arguments for option topic, but you asked for only one');
  });

  it('flags take no inline value', () => {
    expect(usage(() => parseArgs(['--list=yes'], specs))).toBe('Option list does not take an argument');
  });

  it('returns defaults and keeps non-option words aside', () => {
    const a = parseArgs(['stray', '--list', '--', '--topic'], specs);
    expect(a.str('time')).toBe('latest');
    expect(a.positional).toEqual(['stray', '--topic']);
  });
});

describe('Kafka-side checks', () => {
  it('requireOptions and rejectCombination use CommandLineUtils wording', () => {
    const a = parseArgs(['--list', '--partitions', '3'], specs);
    expect(usage(() => requireOptions(a, 'topic'))).toBe('Missing required argument "[topic]"');
    expect(usage(() => rejectCombination(a, 'partitions', ['describe', 'list']))).toBe('Option "[partitions]" can\'t be used with option "[list]"');
  });

  it('splits key=value on the first =', () => {
    expect(splitAssignment('a=b=c')).toEqual(['a', 'b=c']);
    expect(splitAssignment('a')).toEqual(['a', '']);
    expect(splitAssignment('a=')).toEqual(['a', '']);
  });
});
