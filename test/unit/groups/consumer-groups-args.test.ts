import { describe, expect, it } from 'vitest';
import command from '../../../commands/consumer-groups.js';
import { checkArgs, NO_EXECUTE_WARNING, parseStates, parseTopicArg, parseTypes } from '../../../src/cli/consumer-groups/args.js';
import { parseDateTime, parseDuration, parseResetPlan } from '../../../src/cli/consumer-groups/reset.js';
import { parseArgs } from '../../../src/cli/options.js';
import { allOptions } from '../../../src/cli/tool.js';

const check = (...argv: string[]) => {
  const warnings: string[] = [];
  const action = checkArgs(parseArgs(argv, allOptions(command.tool)), (w) => warnings.push(w));
  return { action, warnings };
};
const fails = (...argv: string[]) => expect(() => check('--bootstrap-server', 'h:1', ...argv));

describe('consumer-groups arguments (Kafka\'s checks and wording)', () => {
  it('needs exactly one action', () => {
    fails('--group', 'g').toThrow('Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets');
    fails('--list', '--describe', '--all-groups').toThrow('exactly one action');
    expect(check('--list').action).toBe('list');
  });

  it('checks describe, delete and delete-offsets scopes', () => {
    fails('--describe').toThrow('Option [describe] takes one of these options: [group], [all-groups]');
    fails('--describe', '--group', 'g', '--members', '--state').toThrow('Option [describe] takes at most one of these options: [members], [offsets], [state]');
    fails('--describe', '--group', 'g', '--state', 'Stable').toThrow('Option [describe] does not take a value for [state]');
    fails('--delete').toThrow('Option [delete] takes one of these options');
    fails('--delete', '--group', 'g', '--topic', 't').toThrow('The consumer does not support topic-specific offset deletion from a consumer group.');
    fails('--delete-offsets', '--group', 'g').toThrow('Option [delete-offsets] takes the following options: [group], [topic]');
    fails('--list', '--members').toThrow('Option(s) [members] are unavailable given other options on the command line');
    fails('--describe', '--group', 'g', '--all-groups').toThrow('Option "[group]" can\'t be used with option "[all-groups]"');
    fails('--describe', '--group', 'g', '--topic', 't').toThrow('Option "[topic]" can\'t be used with option "[describe]"');
    expect(check('--describe', '--all-groups', '--state').action).toBe('describe');
  });

  it('checks reset-offsets: one scenario, dry-run xor execute, and warns without either', () => {
    fails('--reset-offsets', '--group', 'g', '--to-earliest', '--to-latest').toThrow('Option "[to-earliest]" can\'t be used with option "[to-latest]"');
    fails('--reset-offsets', '--group', 'g', '--to-earliest', '--dry-run', '--execute').toThrow('Option [reset-offsets] only accepts one of [execute] and [dry-run]');
    expect(check('--reset-offsets', '--group', 'g', '--to-earliest', '--all-topics').warnings).toEqual([NO_EXECUTE_WARNING]);
    expect(check('--reset-offsets', '--group', 'g', '--to-earliest', '--all-topics', '--execute').warnings).toEqual([]);
    // A required argument takes the next token even when it starts with '-'.
    expect(parseArgs(['--shift-by', '-5'], allOptions(command.tool)).int('shift-by')).toBe(-5);
  });

  it('parses state and type lists, and topic:partitions', () => {
    expect(parseStates('stable,EMPTY')).toEqual(['Stable', 'Empty']);
    expect(() => parseStates('x')).toThrow("Invalid state list 'x'. Valid states are: PreparingRebalance, CompletingRebalance, Stable, Dead, Empty, Assigning, Reconciling");
    expect(parseTypes('Classic')).toEqual(['classic']);
    expect(() => parseTypes('share')).toThrow("Invalid types list 'share'");
    expect(parseTopicArg('orders')).toEqual({ topic: 'orders', partitions: null });
    expect(parseTopicArg('orders:0,2')).toEqual({ topic: 'orders', partitions: [0, 2] });
  });
});

describe('reset-offsets inputs', () => {
  it('reads datetimes as Kafka does (no zone = UTC)', () => {
    expect(parseDateTime('2024-03-01T10:00:00.000')).toBe(Date.UTC(2024, 2, 1, 10));
    expect(parseDateTime('2024-03-01T10:00:00.250Z')).toBe(Date.UTC(2024, 2, 1, 10, 0, 0, 250));
    expect(parseDateTime('2024-03-01T10:00:00.000+02:00')).toBe(Date.UTC(2024, 2, 1, 8));
    expect(parseDateTime('2024-03-01T10:00:00.000-0130')).toBe(Date.UTC(2024, 2, 1, 11, 30));
    expect(() => parseDateTime('2024-03-01')).toThrow("It does not contain a 'T'");
    expect(() => parseDateTime('2024-03-01T10:00')).toThrow('Unparseable date');
  });

  it('reads ISO-8601 durations', () => {
    expect(parseDuration('PT1H')).toBe(3_600_000);
    expect(parseDuration('P1DT2H3M4.5S')).toBe(((24 + 2) * 3600 + 3 * 60 + 4.5) * 1000);
    expect(parseDuration('PT-30S')).toBe(-30_000);
    expect(() => parseDuration('1h')).toThrow('Text cannot be parsed to a Duration');
    expect(() => parseDuration('PT')).toThrow();
  });

  it('reads both --export layouts back', () => {
    expect(parseResetPlan('orders,0,5\norders,1,7\n\n', ['g'])).toEqual(new Map([['g', [{ topic: 'orders', partition: 0, offset: 5 }, { topic: 'orders', partition: 1, offset: 7 }]]]));
    const multi = parseResetPlan('g1,orders,0,5\ng2,orders,0,9\n', ['g1', 'g2']);
    expect([...multi.keys()]).toEqual(['g1', 'g2']);
    expect(() => parseResetPlan('orders,x,5\n', ['g'])).toThrow('Invalid line');
  });
});
