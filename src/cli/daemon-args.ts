// The daemons' command lines in their plain form, parsed without yargs: `[config] [--override k=v]...`
// (Kafka's kafka-server-start.sh and zookeeper-server-start.sh take nothing else). Anything else, such
// as --help, --version, an unknown option or a second positional, gives undefined so that yargs
// parses it and says what it always said.

export interface DaemonArgs {
  config?: string;
  override?: string[];
}

export function parseDaemonArgs(args: string[], opts: { overrides: boolean }): DaemonArgs | undefined {
  const out: DaemonArgs = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (opts.overrides && a === '--override') {
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
