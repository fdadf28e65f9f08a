// The daemons' command lines in their plain form, parsed without yargs: `[config] [--override k=v]...`
// (Kafka's kafka-server-start.sh and zookeeper-server-start.sh take nothing else). Anything else, such
// as --help, --version, an unknown option or a second positional, gives undefined so that yargs
// parses it and says what it always said.

export interface DaemonArgs {
  config?: string;
  override?: string[];
  /** The named options given in `opts.numbers` / `opts.strings` (`--brokers 3`: brokers: 3). */
  [option: string]: string | string[] | number | undefined;
}

export interface DaemonArgsOptions {
  overrides: boolean;
  /** Options taking a whole number (`--brokers 3`, `--brokers=3`); any other value goes to yargs. */
  numbers?: string[];
  /** Options taking a word that does not start with '-'. */
  strings?: string[];
}

export function parseDaemonArgs(args: string[], opts: DaemonArgsOptions): DaemonArgs | undefined {
  const out: DaemonArgs = {};
  const named = [...(opts.numbers ?? []), ...(opts.strings ?? [])];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = named.find((n) => a === `--${n}` || a.startsWith(`--${n}=`));
    if (name !== undefined) {
      const inline = a.startsWith(`--${name}=`);
      const v = inline ? a.slice(name.length + 3) : args[++i];
      if (v === undefined || v === '' || v.startsWith('-') || out[name] !== undefined) return undefined;
      if (opts.numbers?.includes(name)) {
        if (!/^\d{1,9}$/.test(v)) return undefined;
        out[name] = Number(v);
      } else {
        out[name] = v;
      }
    } else if (opts.overrides && a === '--override') {
      const v = args[i + 1];
      if (v === undefined || v.startsWith('-')) return undefined;
      (out.override ??= []).push(v);
      i++;
    } else if (opts.overrides && a.startsWith('--override=')) {
      (out.override ??= []).push(a.slice('--override='.length));
    } else if (a.startsWith('-') || out.config !== undefined || out.override) {
      // (yargs reads words after `--override v` as more overrides: leave that reading to it)
      return undefined;
    } else {
      out.config = a;
    }
  }
  return out;
}
