// Shell completion: `kts completion bash|zsh|fish` prints a script that asks kts itself for the
// candidates (`kts __complete <program> <words...> <current word>`, one candidate per line), so the
// options a shell offers are always the ones the installed kts has. Only the command being
// completed is loaded. The values of --topic and --group are asked of the cluster (complete-names.ts,
// bounded by a short timeout, silent on failure); `kts profile use|remove` offers the profiles. No
// candidates: the shell falls back to file names (--command-config, JSON files, server.properties).
import { basename } from 'node:path';
import { COMMANDS, commandFor } from './command-index.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** Words kts takes before a command besides the commands themselves. */
export const META_COMMANDS = ['help', 'completion'] as const;

const KAFKA_SCRIPTS = COMMANDS.flatMap((c) => c.scripts.flatMap((s) => [s, `${s}.sh`]));

export function completionScript(shell: string): string | undefined {
  switch (shell) {
    case 'bash':
      return [
        '# kts completion for bash. Load it with: eval "$(kts completion bash)"',
        '# (or save it as ~/.local/share/bash-completion/completions/kts)',
        '_kts_complete() {',
        '  local cur="${COMP_WORDS[COMP_CWORD]}" IFS=$\'\\n\'',
        '  COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[0]##*/}" "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur"))',
        '}',
        `complete -o default -F _kts_complete kts ${KAFKA_SCRIPTS.join(' ')}`,
        '',
      ].join('\n');
    case 'zsh':
      return [
        '#compdef kts',
        '# kts completion for zsh. Load it with: source <(kts completion zsh)',
        '# (or save it as _kts in a directory of your $fpath)',
        '_kts() {',
        '  local -a candidates',
        '  candidates=("${(@f)$(${words[1]} __complete ${words[1]:t} "${(@)words[2,CURRENT]}" 2>/dev/null)}")',
        '  if (( ${#candidates} )) && [[ -n ${candidates[1]} ]]; then',
        '    compadd -a candidates',
        '  else',
        '    _files',
        '  fi',
        '}',
        `compdef _kts kts ${KAFKA_SCRIPTS.join(' ')}`,
        '',
      ].join('\n');
    case 'fish':
      return [
        '# kts completion for fish. Load it with: kts completion fish | source',
        '# (or save it as ~/.config/fish/completions/kts.fish)',
        'function __kts_complete',
        '    set -l tokens (commandline -opc)',
        '    $tokens[1] __complete (basename $tokens[1]) $tokens[2..-1] (commandline -ct) 2>/dev/null',
        'end',
        ...['kts', ...KAFKA_SCRIPTS].map((p) => `complete -c ${p} -a '(__kts_complete)'`),
        '',
      ].join('\n');
    default:
      return undefined;
  }
}

/** Options whose values come from a short fixed list. */
const VALUES: Record<string, readonly string[]> = {
  'entity-type': ['topics', 'brokers', 'broker-loggers', 'users', 'clients', 'ips'],
  'election-type': ['preferred', 'unclean'],
  time: ['earliest', 'latest', 'max-timestamp'],
  offset: ['earliest', 'latest'],
  'isolation-level': ['read_committed', 'read_uncommitted'],
  'compression-codec': ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
  'request-required-acks': ['-1', '0', '1', 'all'],
  input: ['lines', 'jsonl'],
  storage: ['files', 'memory'],
  'as-kafka': ['3.9', '4.0', '4.4'],
};

function entityType(args: readonly string[]): string | undefined {
  const i = args.lastIndexOf('--entity-type');
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith('--entity-type='))?.slice('--entity-type='.length);
}

/** The daemons are yargs modules; their options, for completion only. */
const DAEMON_OPTIONS: Record<string, { name: string; arg: boolean }[]> = {
  'server-start': [
    { name: 'override', arg: true },
    { name: 'brokers', arg: true },
    { name: 'port', arg: true },
    { name: 'coordinator-port', arg: true },
    { name: 'data-dir', arg: true },
    { name: 'as-kafka', arg: true },
    { name: 'storage', arg: true },
    { name: 'help', arg: false },
  ],
  'zookeeper-server-start': [{ name: 'help', arg: false }],
};

/** Options whose values are names the cluster holds. */
const NAME_OPTIONS: Record<string, 'topics' | 'groups'> = { topic: 'topics', include: 'topics', group: 'groups' };

/** Looks up names (topics, groups on the cluster the words point at; profiles); [] on any failure. */
export type NameSource = (kind: 'topics' | 'groups' | 'profiles', words: readonly string[]) => Promise<string[]>;

interface Completable {
  options: { name: string; arg: boolean; values?: readonly string[] }[];
  /** A first word that is a sub-command (kafka-transactions' list, describe, ...). */
  words?: readonly string[];
}

/**
 * The candidates for the last of `words` (the word being typed, possibly empty), `program` being the
 * name the shell ran (kts, or a Kafka script name that selects the command).
 */
export async function complete(
  program: string,
  words: string[],
  load: (name: string) => Promise<Completable | undefined>,
  names: NameSource = async () => [],
): Promise<string[]> {
  const current = words.length > 0 ? words[words.length - 1] : '';
  const before = words.slice(0, -1);
  const byProgram = commandFor(basename(program));
  let command = byProgram?.name;
  let args = before;
  if (!command) {
    if (before.length === 0) return [...COMMANDS.map((c) => c.name), ...META_COMMANDS, '--help', '--version'].filter((c) => c.startsWith(current));
    if (before[0] === 'help') return before.length === 1 ? COMMANDS.map((c) => c.name).filter((c) => c.startsWith(current)) : [];
    if (before[0] === 'completion') return before.length === 1 ? SHELLS.filter((s) => s.startsWith(current)) : [];
    command = commandFor(before[0])?.name;
    if (!command) return [];
    args = before.slice(1);
  }
  const spec: Completable | undefined = DAEMON_OPTIONS[command] ? { options: DAEMON_OPTIONS[command] } : await load(command);
  if (!spec) return [];
  const previous = args[args.length - 1];
  if (previous?.startsWith('--') && !current.startsWith('--')) {
    const option = spec.options.find((o) => o.name === previous.slice(2));
    if (option?.arg) {
      const fixed = option.values ?? VALUES[option.name];
      if (fixed) return fixed.filter((v) => v.startsWith(current));
      let kind = NAME_OPTIONS[option.name];
      if (option.name === 'entity-name' && entityType(args) === 'topics') kind = 'topics';
      // A topic being created has no name yet.
      if (!kind || (command === 'topics' && args.includes('--create'))) return [];
      // Internal topics (__consumer_offsets) only once the word asks for them.
      return (await names(kind, args)).filter((n) => n.startsWith(current) && (current.startsWith('_') || !n.startsWith('__')));
    }
  }
  if (command === 'profile' && ['use', 'remove', 'delete'].includes(previous ?? '') && !current.startsWith('-')) {
    return (await names('profiles', args)).filter((n) => n.startsWith(current));
  }
  if (current.startsWith('-')) {
    const given = new Set(args.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]));
    return spec.options
      .map((o) => `--${o.name}`)
      .filter((o) => o.startsWith(current) && (o === current || !given.has(o.slice(2))));
  }
  if (spec.words && !args.some((a) => spec.words!.includes(a))) {
    const words = spec.words.filter((w) => w.startsWith(current));
    if (words.length > 0 || current !== '') return words;
  }
  // A word that is not an option: offer the options (an empty word shows what the command takes).
  // (the daemons take a properties file there: nothing, so the shell offers file names)
  return current === '' && !DAEMON_OPTIONS[command] ? spec.options.map((o) => `--${o.name}`) : [];
}
