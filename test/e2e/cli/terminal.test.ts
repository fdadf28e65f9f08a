// The terminal face on a real pseudo-terminal (util-linux `script`, `stty cols N`): `topics
// --describe`, `consumer-groups --describe` and `--describe --watch` at 80 and 160 columns print
// compact tables (no borders, no row separators) with no line wider than the terminal, long ids cut
// in the middle; piped, the same commands print Kafka's text, byte for byte what `--output plain`
// prints on the terminal.
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { ptyKts, ptyKtsRun, screenLines, shownWidth } from '../../helpers/pty.js';
import { kts } from './support.js';

const LONG_TOPIC = `orders-${'x'.repeat(90)}-end`;
const LONG_CLIENT = `checkout-service-${'c'.repeat(70)}-instance-7`;
const GROUP = 'term-live';
/** A line drawn by a bordered table (┌─┬, ├─┼, └─┴ and │ columns, as cli-table3 and the first terminal face drew them). */
const SEPARATOR = /[─│┌┐└┘├┤┬┴┼]|^[+-]{5,}$/;

describe('the terminal face on a pseudo-terminal', () => {
  let broker: SpawnedBroker;
  let b: string;
  let consumer: Consumer;
  beforeAll(async () => {
    broker = await spawnBroker();
    b = broker.bootstrap;
    for (const [topic, partitions] of [[LONG_TOPIC, 3], ['short', 4]] as const) {
      const created = await kts(['topics', '--bootstrap-server', b, '--create', '--topic', topic, '--partitions', String(partitions), '--config', 'retention.ms=86400000']);
      expect(created.code, created.stdout + created.stderr).toBe(0);
    }
    const kafka = new Kafka({ brokers: [b], clientId: LONG_CLIENT, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'short', messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();
    // A live member with a long client id (its consumer id is longer still), offsets committed.
    consumer = kafka.consumer({ groupId: GROUP });
    await consumer.connect();
    await consumer.subscribe({ topic: 'short', fromBeginning: true });
    let seen = 0;
    await consumer.run({ eachMessage: async () => void seen++ });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const d = await kts(['consumer-groups', '--bootstrap-server', b, '--describe', '--group', GROUP, '--output', 'json']);
      const rows = (JSON.parse(d.stdout).groups[0]?.offsets ?? []) as { lag: number | null; consumerId: string | null }[];
      if (seen >= 40 && rows.length === 4 && rows.every((r) => r.lag === 0 && r.consumerId)) break;
      if (Date.now() > deadline) throw new Error(`the group did not commit everything: ${d.stdout}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 90_000);
  afterAll(async () => {
    await consumer?.disconnect();
    await broker?.stop();
  });

  const fits = (lines: string[], cols: number) => {
    const wide = lines.filter((l) => shownWidth(l) > cols);
    expect(wide, `lines wider than ${cols}`).toEqual([]);
    expect(lines.filter((l) => SEPARATOR.test(l)), 'row separators or borders').toEqual([]);
  };

  for (const cols of [80, 160]) {
    it(`topics --describe at ${cols} columns: compact, fitted, Kafka's text when piped`, async () => {
      const args = ['topics', '--bootstrap-server', b, '--describe', '--exclude-internal'];
      const shown = await ptyKtsRun(args, cols);
      expect(shown.code).toBe(0);
      expect(shown.output).toContain('\x1b['); // colour: the terminal face, not the piped text
      const lines = screenLines(shown.output);
      fits(lines, cols);
      // One header and one line per partition for each topic: 2 title lines + 1 + 3, 2 + 1 + 4, a blank between.
      expect(lines.filter((l) => /^Partition\s+Leader\s+Replicas\s+Isr$/.test(l))).toHaveLength(2);
      expect(lines.filter((l) => /^\s+\d+\s+\d+\s+\d+\s+\d+$/.test(l))).toHaveLength(7);
      const title = lines.find((l) => l.startsWith('orders-'))!;
      if (cols === 80) expect(title).toMatch(/…$/);
      else expect(title).toContain(`${LONG_TOPIC}  3 partition(s)`);

      const piped = await kts(args);
      expect(piped.code).toBe(0);
      expect(piped.stdout).not.toContain('\x1b');
      const plainOnTerminal = await ptyKtsRun([...args, '--output', 'plain'], cols);
      expect(screenLines(plainOnTerminal.output).join('\n')).toBe(piped.stdout);
      const pipedLines = piped.stdout.split('\n');
      // (in the order of Kafka's HashMap of descriptions, which kts reproduces)
      expect(pipedLines.filter((l) => l.startsWith('Topic: ')).sort()).toEqual([
        expect.stringMatching(new RegExp(`^Topic: ${LONG_TOPIC}\\tTopicId: [\\w-]{22}\\tPartitionCount: 3\\tReplicationFactor: 1\\tConfigs: retention.ms=86400000$`)),
        expect.stringMatching(/^Topic: short\tTopicId: [\w-]{22}\tPartitionCount: 4\tReplicationFactor: 1\tConfigs: retention.ms=86400000$/),
      ]);
      expect(pipedLines.filter((l) => l.startsWith('\tTopic: '))).toHaveLength(7);
      expect(pipedLines.every((l) => l === '' || /^\t?Topic: /.test(l))).toBe(true);
    });

    it(`consumer-groups --describe at ${cols} columns: long ids cut in the middle, Kafka's text when piped`, async () => {
      const args = ['consumer-groups', '--bootstrap-server', b, '--describe', '--group', GROUP];
      const shown = await ptyKtsRun(args, cols);
      expect(shown.code).toBe(0);
      const lines = screenLines(shown.output);
      fits(lines, cols);
      expect(lines.some((l) => /^TOPIC\s+PART\s+CURRENT\s+LOG-END\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID$/.test(l))).toBe(true);
      const rows = lines.filter((l) => l.startsWith('short '));
      expect(rows).toHaveLength(4);
      for (const row of rows) {
        if (cols === 80) expect(row).toMatch(/ checkou[-c]*…[-a-z]*7$/); // the client id cut in the middle: both ends kept
        expect(row).toMatch(/^short\s+\d\s+\d+\s+\d+\s+0\s/);
      }
      if (cols === 160) expect(rows.some((r) => r.includes(LONG_CLIENT) || r.includes('checkout-service-'))).toBe(true);

      const piped = await kts(args);
      expect(piped.stdout).not.toContain('\x1b');
      const plainOnTerminal = await ptyKtsRun([...args, '--output', 'plain'], cols);
      expect(screenLines(plainOnTerminal.output).join('\n')).toBe(piped.stdout);
      const pipedLines = piped.stdout.split('\n').filter(Boolean);
      expect(pipedLines[0]).toMatch(/^GROUP {11}TOPIC {11}PARTITION {2}CURRENT-OFFSET {2}LOG-END-OFFSET {2}LAG {13}CONSUMER-ID +HOST +CLIENT-ID$/);
      expect(pipedLines.slice(1).every((l) => l.startsWith(`${GROUP}       short`) && l.endsWith(LONG_CLIENT))).toBe(true);
    });

    it(`consumer-groups --describe --watch at ${cols} columns: each redraw fits, Ctrl-C ends it with 0`, async () => {
      const run = ptyKts(['consumer-groups', '--bootstrap-server', b, '--describe', '--group', GROUP, '--watch', '0.3'], cols);
      await run.waitFor((t) => t.split('Ctrl-C to stop').length > 3);
      const { code, output } = await run.stop('SIGINT');
      expect(code).toBe(0);
      expect(output).toContain('\x1b[2J'); // the screen is redrawn, not scrolled
      const lines = screenLines(output);
      fits(lines, cols);
      const heads = lines.filter((l) => /^TOPIC\s+PART\s+CURRENT\s+LOG-END\s+LAG\s+CONSUME\/s\s+PRODUCE\/s\s+ETA\s+CONSUMER-ID$/.test(l));
      expect(heads.length).toBeGreaterThanOrEqual(3);
      expect(lines.filter((l) => /^short\s+\d\s/.test(l)).length).toBe(4 * heads.length);
    });
  }

  it('--watch piped: Kafka\'s columns and the two rate columns, one block per fetch', async () => {
    const { startKts } = await import('./support.js');
    const run = startKts(['consumer-groups', '--bootstrap-server', b, '--describe', '--group', GROUP, '--watch', '0.3']);
    await run.waitForStdout((s) => s.split('CONSUME-RATE').length > 3);
    const { code, stdout } = await run.stop('SIGINT');
    expect(code).toBe(0);
    expect(stdout).not.toContain('\x1b');
    const blocks = stdout.split('\n\n').filter(Boolean);
    for (const block of blocks.slice(0, 3)) {
      const lines = block.replace(/^\n/, '').split('\n').filter(Boolean);
      expect(lines[0]).toMatch(/^GROUP {11}TOPIC {11}PARTITION {2}CURRENT-OFFSET {2}LOG-END-OFFSET {2}LAG {13}CONSUMER-ID +HOST +CLIENT-ID +CONSUME-RATE {4}TIME-TO-ZERO-LAG$/);
      expect(lines).toHaveLength(5);
    }
  });
});
