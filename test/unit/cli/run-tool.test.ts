// runTool: --help/--version/usage errors and how run-time failures print, per tool; the command
// index and help layout.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandFor, renderCommandList } from '../../../src/cli/command-index.js';
import { CliError } from '../../../src/cli/errors.js';
import { renderHelp, wrap } from '../../../src/cli/help.js';
import { Output } from '../../../src/cli/output.js';
import { KAFKA_VERSION, runTool, type ToolSpec } from '../../../src/cli/tool.js';

function capture(tty = false) {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; text(): string };
  let data = '';
  stream.on('data', (d) => (data += d));
  stream.isTTY = tty;
  stream.text = () => data;
  return stream;
}

function spec(run: ToolSpec['load'], over: Partial<ToolSpec> = {}): ToolSpec {
  return {
    name: 'demo',
    kafkaName: 'kafka-demo.sh',
    describe: 'demo',
    summary: 'A demo tool.',
    runtimeError: { prefix: 'Error while executing demo command : ', stream: 'stdout' },
    options: [
      { name: 'topic', arg: 'required', describe: 'The topic.' },
      { name: 'count', arg: 'required', type: 'int', describe: 'How many.', defaultValue: '1' },
    ],
    load: run,
    ...over,
  };
}

async function exec(s: ToolSpec, argv: string[], tty = false) {
  const stdout = capture(tty);
  const stderr = capture(tty);
  const code = await runTool(s, argv, { stdout, stderr, invokedAs: 'kafka-demo.sh', packageVersion: '0.1.0', env: {} });
  return { code, out: stdout.text(), err: stderr.text() };
}

const ok: ToolSpec['load'] = async () => ({
  run: async (args, ctx) => {
    await ctx.out.print({ plain: `topic=${args.str('topic')} count=${args.int('count')}\n`, json: { topic: args.str('topic') } });
    return 0;
  },
});

describe('runTool', () => {
  it('prints help to stderr and exits 1, with no arguments too', async () => {
    for (const argv of [[], ['--help'], ['--topic', 'x', '--help']]) {
      const r = await exec(spec(ok), argv);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err.split('\n').slice(0, 3)).toEqual(['A demo tool.', `${'Option'.padEnd(41)}Description`, `${'------'.padEnd(41)}-----------`]);
      expect(r.err).toContain('--count <Integer>                        How many. (default: 1)');
    }
  });

  it('--version prints the Kafka version (and the kts one on a terminal)', async () => {
    expect(await exec(spec(ok), ['--version'])).toEqual({ code: 0, out: `${KAFKA_VERSION}\n`, err: '' });
    expect((await exec(spec(ok), ['--version'], true)).out).toBe(`${KAFKA_VERSION} (kts 0.1.0)\n`);
  });

  it('usage errors: one line and a pointer to --help on stderr, exit 1', async () => {
    expect(await exec(spec(ok), ['--nope'])).toEqual({ code: 1, out: '', err: "nope is not a recognized option\nRun 'kafka-demo.sh --help' for the list of options.\n" });
    expect((await exec(spec(ok), ['--count', 'x'])).err).toMatch(/^Cannot parse argument 'x' of option count\n/);
    expect((await exec(spec(ok), ['--topic'])).err).toMatch(/^Option topic requires an argument\n/);
  });

  it('runs the tool and renders plain or json output', async () => {
    expect(await exec(spec(ok), ['--topic', 't', '--count', '3'])).toEqual({ code: 0, out: 'topic=t count=3\n', err: '' });
    const j = await exec(spec(ok), ['--topic', 't', '--output', 'json']);
    expect(JSON.parse(j.out)).toEqual({ topic: 't' });
    expect((await exec(spec(ok), ['--topic', 't', '--output', 'yaml'])).err).toMatch(/^Invalid value 'yaml' for option output/);
  });

  it('prints run-time failures the way the Kafka tool does, never a stack trace', async () => {
    const failing = spec(async () => ({
      run: async () => {
        throw new CliError("Topic 'x' already exists.");
      },
    }));
    expect(await exec(failing, ['--topic', 'x'])).toEqual({ code: 1, out: "Error while executing demo command : Topic 'x' already exists.\n", err: '' });
    const toStderr = spec(failing.load, { runtimeError: { prefix: 'Error occurred: ', stream: 'stderr' } });
    expect(await exec(toStderr, ['--topic', 'x'])).toEqual({ code: 1, out: '', err: "Error occurred: Topic 'x' already exists.\n" });
    const crash = spec(async () => ({
      run: async () => {
        throw new TypeError('boom\n  at somewhere');
      },
    }));
    const r = await exec(crash, ['--topic', 'x']);
    expect(r.out).toBe('Error while executing demo command : boom at somewhere\n');
    const j = await exec(failing, ['--topic', 'x', '--output', 'json']);
    expect(JSON.parse(j.out)).toEqual({ error: { message: "Topic 'x' already exists.", exitCode: 1 } });
  });
});

describe('command index', () => {
  it('maps script names and subcommands', () => {
    expect(commandFor('kafka-topics.sh')?.name).toBe('topics');
    expect(commandFor('kafka-topics')?.name).toBe('topics');
    expect(commandFor('topics')?.name).toBe('topics');
    expect(commandFor('kafka-console-consumer')?.name).toBe('console-consumer');
    expect(commandFor('zookeeper-server-start.sh')?.name).toBe('zookeeper-server-start');
    expect(commandFor('kafka-server-start')?.name).toBe('server-start');
    expect(commandFor('kts')).toBeUndefined();
    expect(commandFor('kts.js')).toBeUndefined();
  });

  it('lists every command with its description', () => {
    const text = renderCommandList('1.2.3');
    for (const c of COMMANDS) expect(text).toContain(`  ${c.name}`);
    expect(text).toContain('kts 1.2.3');
  });
});

describe('help and output', () => {
  it('wraps words and indents continuation lines', () => {
    expect(wrap('one two three four', 9, '  ')).toEqual(['one two', '  three', '  four']);
  });

  it('sorts options and hides hidden ones', () => {
    const text = renderHelp('S', [
      { name: 'zeta', describe: 'z' },
      { name: 'alpha', describe: 'a' },
      { name: 'secret', describe: 's', hidden: true },
    ]);
    expect(text.split('\n').slice(3, 5).map((l) => l.trim())).toEqual(['--alpha                                  a', '--zeta                                   z']);
    expect(text).not.toContain('secret');
  });

  it('picks plain off a terminal and table on one', async () => {
    expect((await Output.create({ stdout: capture(false), stderr: capture(false) })).mode).toBe('plain');
    expect((await Output.create({ stdout: capture(true), stderr: capture(true) })).mode).toBe('table');
    expect((await Output.create({ stdout: capture(true), stderr: capture(true), requested: 'plain' })).mode).toBe('plain');
  });

  it('renders compact tables on a terminal: no borders, no row separators', async () => {
    const out = await Output.create({ stdout: capture(true), stderr: capture(true) });
    const text = (await out.renderTables([{ title: 'orders', head: ['Topic', 'Partition'], rows: [['orders', 0], ['payments', 12]] }])).replace(/\x1b\[[0-9;]*m/g, '');
    expect(text).toBe('orders\nTopic     Partition\norders            0\npayments         12\n');
  });
});
