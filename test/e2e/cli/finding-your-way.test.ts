// Finding your way without the manual: "did you mean" for a mistyped command or option, `kts help
// <command>`, examples in every tool's --help, and the completion scripts run in real bash, zsh and
// fish against the built binary (bash through COMP_WORDS/COMP_CWORD, zsh with compadd captured,
// fish through its own `complete -C`). Kafka's usage message stays the first stderr line.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../src/cli/command-index.js';
import { KTS_BIN, tempDir } from '../../helpers/broker.js';
import { requireTool } from '../../helpers/tools.js';
import { kts } from './support.js';

// The servers (broker, coordinator, web console) have yargs' help (stdout, exit 0), not Kafka's tools' help.
// The Kafka tools (defineTool); the servers, the web console and the Connect worker are yargs commands
// with their own help, checked below.
const TOOLS = COMMANDS.map((c) => c.name).filter((n) => !n.endsWith('server-start') && n !== 'console' && !n.startsWith('connect-'));

describe('did you mean', () => {
  it('names the command meant by a near miss or a part', async () => {
    const topic = await kts(['topic']);
    expect(topic.code).toBe(1);
    expect(topic.stderr).toBe("kts: 'topic' is not a kts command. Did you mean 'topics'?\nRun 'kts --help' for the list of commands.\n");
    expect((await kts(['consumer'])).stderr).toContain("Did you mean one of: 'console-consumer', 'consumer-groups'?");
    expect((await kts(['cosnumer-groups'])).stderr).toContain("Did you mean 'consumer-groups'?");
    const nothing = await kts(['zzzzzz']);
    expect(nothing.stderr).toMatch(/^kts: 'zzzzzz' is not a kts command\.\nCommands: topics, /);
  });

  it('names the option meant, after Kafka\'s message', async () => {
    const lst = await kts(['topics', '--lst']);
    expect(lst).toMatchObject({ code: 1, stdout: '' });
    expect(lst.stderr).toBe("lst is not a recognized option\nDid you mean --list?\nRun 'kts topics --help' for the list of options.\n");
    expect((await kts(['consumer-groups', '--describe', '--gruop', 'g'])).stderr.split('\n').slice(0, 2)).toEqual(['gruop is not a recognized option', 'Did you mean --group?']);
    expect((await kts(['console-consumer', '--from-begining'])).stderr.split('\n')[1]).toBe('Did you mean --from-beginning?');
    expect((await kts(['topics', '--bootstrap'])).stderr.split('\n')[1]).toBe('Did you mean --bootstrap-server?');
    // Nothing close: Kafka's message and the pointer only.
    expect((await kts(['topics', '--qqqqqqq'])).stderr).toBe("qqqqqqq is not a recognized option\nRun 'kts topics --help' for the list of options.\n");
  });
});

describe('help', () => {
  it('kts help <command> prints the command\'s help on stdout with 0; every tool\'s help has examples', async () => {
    for (const name of TOOLS) {
      const r = await kts(['help', name]);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(/\nExamples:\n  # .+\n  kts \S+/);
      // --help keeps Kafka's stream and exit code (stderr, 1) with the same text.
      const dashed = await kts([name, '--help']);
      expect(dashed.code).toBe(1);
      expect(dashed.stderr).toBe(r.stdout);
    }
    const server = await kts(['help', 'server-start']);
    expect(server.code).toBe(0);
    expect(server.stdout).toContain('--brokers');
    const webConsole = await kts(['help', 'console']);
    expect(webConsole.code).toBe(0);
    expect(webConsole.stdout).toMatch(/--bootstrap-server[\s\S]*\nExamples:\n  kts console/);
    for (const mode of ['standalone', 'distributed']) {
      const worker = await kts(['help', `connect-${mode}`]);
      expect(worker.code).toBe(0);
      expect(worker.stdout).toMatch(new RegExp(`\\nExamples:\\n  kts connect-${mode}\\s+\\S+`));
    }
    expect((await kts(['help', 'topicz'])).stderr).toContain("Did you mean 'topics'?");
    expect((await kts(['--help'])).stdout).toMatch(/help <command>\s+Show a command's options and examples\n\s+completion <sh>/);
  }, 180_000);

  it('no option with a default is called REQUIRED, and the defaults are stated', async () => {
    for (const name of TOOLS) {
      // Each option's block: its first line and the wrapped lines under it, joined.
      const blocks = (await kts(['help', name])).stdout.split(/\n(?=--)/).filter((b) => b.startsWith('--')).map((b) => b.replace(/\s+/g, ' '));
      for (const block of blocks) {
        if (/[Dd]efault/.test(block)) expect(block, name).not.toMatch(/REQUIRED(?! \(or)/);
      }
      const bootstrap = blocks.find((b) => b.startsWith('--bootstrap-server '));
      if (bootstrap) expect(bootstrap, name).toMatch(/KTS_BOOTSTRAP_SERVER/);
    }
  }, 120_000);
});

describe('completion', () => {
  let bin: string;
  let dir: string;
  beforeAll(() => {
    dir = tempDir('kts-completion-');
    bin = join(dir, 'bin');
    mkdirSync(bin);
    // `kts` on the PATH, as after npm install -g, and a Kafka script name beside it.
    writeFileSync(join(bin, 'kts'), `#!/bin/sh\nexec "${process.execPath}" "${KTS_BIN}" "$@"\n`);
    chmodSync(join(bin, 'kts'), 0o755);
    symlinkSync(join(bin, 'kts'), join(bin, 'kafka-topics.sh'));
    for (const shell of ['bash', 'zsh', 'fish']) writeFileSync(join(dir, `kts.${shell}`), execFileSync(process.execPath, [KTS_BIN, 'completion', shell], { encoding: 'utf8' }));
  });
  const env = () => ({ ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir });

  const bash = (words: string[]): string[] => {
    const script = `source ${join(dir, 'kts.bash')}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})\nCOMP_CWORD=${words.length - 1}\n_kts_complete\nprintf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', env: env() }).split('\n').filter(Boolean);
  };

  it('bash: commands, options, option values, Kafka script names; files where kts has nothing', () => {
    expect(bash(['kts', 'top'])).toEqual(['topics']);
    expect(bash(['kts', 'con']).sort()).toEqual(['configs', 'connect-distributed', 'connect-standalone', 'console', 'console-consumer', 'console-producer', 'consumer-groups']);
    expect(bash(['kts', 'topics', '--l'])).toEqual(['--list']);
    expect(bash(['kts', 'topics', '--list', '--bootstrap-server', 'localhost:9092', '--exc'])).toEqual(['--exclude-internal']);
    expect(bash(['kts', 'consumer-groups', '--describe', '--gr'])).toEqual(['--group']);
    expect(bash(['kts', 'topics', '--output', ''])).toEqual(['plain', 'table', 'json']);
    expect(bash(['kts', 'console-consumer', '--output', 'j'])).toEqual(['json', 'jsonl']);
    expect(bash(['kts', 'configs', '--entity-type', 'b'])).toEqual(['brokers', 'broker-loggers']);
    expect(bash(['kts', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(bash(['kts', 'help', 'consumer-g'])).toEqual(['consumer-groups']);
    expect(bash(['kafka-topics.sh', '--desc'])).toEqual(['--describe']);
    // An option given already is not offered again.
    expect(bash(['kts', 'topics', '--list', '--li'])).toEqual([]);
    // --command-config takes a file: kts offers nothing, so bash completes file names (-o default).
    expect(bash(['kts', 'topics', '--command-config', ''])).toEqual([]);
    expect(execFileSync('bash', ['--norc', '-c', `source ${join(dir, 'kts.bash')}; complete -p kts`], { encoding: 'utf8' })).toMatch(/complete -o default -F _kts_complete kts/);
  }, 120_000);

  it('zsh: the same candidates through compadd', (ctx) => {
    const zsh = requireTool('zsh');
    if (!zsh) return ctx.skip();
    const run = (words: string[]) => {
      // compadd and compdef exist only inside zsh's completion system: stand-ins print what the script hands them.
      const script = [
        'compdef() { :; }',
        'compadd() { [[ $1 == -a ]] && print -l -- "${(@P)2}"; }',
        '_files() { print -- FILES; }',
        `source ${join(dir, 'kts.zsh')}`,
        `words=(${words.map((w) => `'${w}'`).join(' ')})`,
        `CURRENT=${words.length}`,
        '_kts',
      ].join('\n');
      return execFileSync(zsh, ['-f', '-c', script], { encoding: 'utf8', env: env() }).split('\n').filter(Boolean);
    };
    expect(run(['kts', 'top'])).toContain('topics');
    expect(run(['kts', 'topics', '--de']).sort()).toEqual(['--delete', '--delete-config', '--describe']);
    expect(run(['kts', 'topics', '--output', ''])).toEqual(['plain', 'table', 'json']);
    expect(run(['kts', 'server-start', ''])).toEqual(['FILES']);
  });

  it('fish: the same candidates through fish\'s own completer', (ctx) => {
    const fish = requireTool('fish');
    if (!fish) return ctx.skip();
    const run = (line: string) =>
      execFileSync(fish, ['--no-config', '-c', `source ${join(dir, 'kts.fish')}; complete -C '${line}'`], { encoding: 'utf8', env: env() })
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]);
    expect(run('kts top')).toEqual(['topics']);
    expect(run('kts consumer-groups --desc')).toEqual(['--describe']);
    expect(run('kts get-offsets --time ')).toEqual(expect.arrayContaining(['earliest', 'latest', 'max-timestamp']));
    expect(run('kafka-topics.sh --li')).toEqual(['--list']);
  });
});
