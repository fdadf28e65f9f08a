// ConsumerGroupCommandOptions.checkArgs and the "exactly one action" rule, in Kafka's order and
// wording. Everything here is a usage problem (stderr, exit 1); the one warning (reset without
// --execute/--dry-run) goes to stderr and the run continues.
import { UsageError } from '../errors.js';
import { rejectCombination, type ParsedArgs } from '../options.js';
import { watchSeconds } from './watch.js';

export const ACTIONS = ['list', 'describe', 'delete', 'reset-offsets', 'delete-offsets'] as const;
export type Action = (typeof ACTIONS)[number];

export const RESET_SCENARIOS = ['to-offset', 'shift-by', 'to-datetime', 'by-duration', 'to-earliest', 'to-latest', 'to-current', 'from-file'] as const;

const GROUP_SCOPE = '[group], [all-groups]';

export const NO_EXECUTE_WARNING =
  'WARN: No action will be performed as the --execute option is missing.' +
  'In a future major release, the default behavior of this command will be to prompt the user before ' +
  'executing the reset rather than doing a dry run. You should add the --dry-run option explicitly ' +
  'if you are scripting this command and want to keep the current default behavior without prompting.';

/** Returns the action; throws UsageError. `warn` gets stderr lines as Kafka prints them (before any usage error). */
export function checkArgs(args: ParsedArgs, warn: (line: string) => void): Action {
  const available = (opt: string, ...under: string[]) => {
    if (args.has(opt) && !under.some((u) => args.has(u))) {
      // jopt-simple's availableIf wording.
      throw new UsageError(`Option(s) [${opt}] are unavailable given other options on the command line`);
    }
  };
  available('members', 'describe');
  available('verbose', 'describe');
  available('offsets', 'describe');
  available('state', 'describe', 'list');
  available('type', 'list');
  available('watch', 'describe');

  if (args.has('describe')) {
    if (!args.has('group') && !args.has('all-groups')) throw new UsageError(`Option [describe] takes one of these options: ${GROUP_SCOPE}`);
    if (['members', 'offsets', 'state'].filter((o) => args.has(o)).length > 1) {
      throw new UsageError('Option [describe] takes at most one of these options: [members], [offsets], [state]');
    }
    if (args.has('state') && args.str('state') !== undefined) throw new UsageError('Option [describe] does not take a value for [state]');
    rejectCombination(args, 'watch', ['members', 'state']);
    if (args.has('watch') && Number.isNaN(watchSeconds(args.str('watch')))) {
      throw new UsageError(`Cannot parse argument '${args.str('watch')}' of option watch: expected a number of seconds above 0`);
    }
  }
  if (args.has('delete')) {
    if (!args.has('group') && !args.has('all-groups')) throw new UsageError(`Option [delete] takes one of these options: ${GROUP_SCOPE}`);
    if (args.has('topic')) throw new UsageError('The consumer does not support topic-specific offset deletion from a consumer group.');
  }
  if (args.has('delete-offsets')) {
    if (!args.has('group') || !args.has('topic')) throw new UsageError('Option [delete-offsets] takes the following options: [group], [topic]');
  }
  if (args.has('reset-offsets')) {
    if (args.has('dry-run') && args.has('execute')) throw new UsageError('Option [reset-offsets] only accepts one of [execute] and [dry-run]');
    if (!args.has('dry-run') && !args.has('execute')) warn(NO_EXECUTE_WARNING);
    if (!args.has('group') && !args.has('all-groups')) throw new UsageError(`Option [reset-offsets] takes one of these options: ${GROUP_SCOPE}`);
    for (const scenario of RESET_SCENARIOS) rejectCombination(args, scenario, RESET_SCENARIOS.filter((s) => s !== scenario));
  }
  rejectCombination(args, 'group', ['all-groups']);
  rejectCombination(args, 'group', ['list']);
  rejectCombination(args, 'topic', ['list', 'describe']);

  const actions = ACTIONS.filter((a) => args.has(a));
  if (actions.length !== 1) {
    throw new UsageError(`Command must include exactly one action: ${ACTIONS.map((a) => `--${a}`).join(', ')}`);
  }
  return actions[0];
}

/** `--state a,b` for --list: Kafka's GroupState names, case-insensitive. */
export const LISTABLE_STATES = ['PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty', 'Assigning', 'Reconciling'];

export function parseStates(value: string | undefined): string[] {
  if (!value) return [];
  const parsed = value.split(',').map((s) => s.trim());
  const canonical = parsed.map((s) => LISTABLE_STATES.find((v) => v.toLowerCase() === s.toLowerCase()));
  if (canonical.some((c) => c === undefined)) {
    throw new UsageError(`Invalid state list '${value}'. Valid states are: ${LISTABLE_STATES.join(', ')}`);
  }
  return [...new Set(canonical as string[])];
}

export function parseTypes(value: string | undefined): string[] {
  if (!value) return [];
  const parsed = value.toLowerCase().split(',').map((s) => s.trim());
  if (parsed.some((t) => t !== 'classic' && t !== 'consumer')) {
    throw new UsageError(`Invalid types list '${value}'. Valid types are: classic, consumer`);
  }
  return [...new Set(parsed)];
}

/** `t` or `t:0,1,2` (Kafka splits on the first ':'). */
export function parseTopicArg(arg: string): { topic: string; partitions: number[] | null } {
  const i = arg.indexOf(':');
  if (i < 0) return { topic: arg, partitions: null };
  const topic = arg.slice(0, i);
  const partitions = arg
    .slice(i + 1)
    .split(',')
    .map((p) => {
      const n = Number(p.trim());
      if (!/^\s*\d+\s*$/.test(p) || !Number.isSafeInteger(n)) throw new UsageError(`For input string: "${p}"`);
      return n;
    });
  return { topic, partitions };
}
