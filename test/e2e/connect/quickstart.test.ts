// Kafka's quickstart, step "Import/export your data as streams of events with Kafka Connect", word
// for word with kts: the three config files as the distribution ships them (only the broker's port,
// the REST port and the offsets file's directory differ, so that tests can run side by side),
// `foo` and `bar` flow from test.txt through connect-test into test.sink.txt, the topic holds
// JsonConverter's envelopes, a line appended later flows through. Then lines are appended while
// the worker is killed with SIGKILL three times and restarted: the sink file ends with every line
// exactly once and in order, and so does the topic (the source re-sends its unconfirmed batch with
// the same producer id and sequence numbers; the sink cuts its file back to the committed length).
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, KTS_BIN, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { sleep, startWorker, waitFor, type RunningWorker } from './connect-helpers.js';

const run = promisify(execFile);

let broker: SpawnedBroker;
let dir: string;
let restPort: number;
let worker: RunningWorker | null = null;

const FILES = ['config/connect-standalone.properties', 'config/connect-file-source.properties', 'config/connect-file-sink.properties'];
const sinkText = () => (existsSync(join(dir, 'test.sink.txt')) ? readFileSync(join(dir, 'test.sink.txt'), 'utf8') : '');

beforeAll(async () => {
  broker = await spawnBroker();
  dir = tempDir('kts-connect-quickstart-');
  restPort = await freePort();
  mkdirSync(join(dir, 'config'));
  writeFileSync(
    join(dir, 'config/connect-standalone.properties'),
    [
      '# These are defaults. This file just demonstrates how to override some settings.',
      `bootstrap.servers=localhost:${broker.port}`,
      '',
      '# The converters specify the format of data in Kafka and how to translate it into Connect data.',
      'key.converter=org.apache.kafka.connect.json.JsonConverter',
      'value.converter=org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable=true',
      'value.converter.schemas.enable=true',
      '',
      `offset.storage.file.filename=${join(dir, 'connect.offsets')}`,
      '# Flush much faster than normal, which is useful for testing/debugging',
      'offset.flush.interval.ms=10000',
      `listeners=http://127.0.0.1:${restPort}`,
      '',
      '#plugin.path=',
      '',
    ].join('\n'),
  );
  // The quickstart's own step: echo "plugin.path=libs/connect-file-4.4.0.jar" >> config/connect-standalone.properties
  appendFileSync(join(dir, 'config/connect-standalone.properties'), 'plugin.path=libs/connect-file-4.4.0.jar\n');
  writeFileSync(join(dir, 'config/connect-file-source.properties'), 'name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile=test.txt\ntopic=connect-test\n');
  writeFileSync(join(dir, 'config/connect-file-sink.properties'), 'name=local-file-sink\nconnector.class=FileStreamSink\ntasks.max=1\nfile=test.sink.txt\ntopics=connect-test\n');
});

afterAll(async () => {
  await worker?.stop();
  await broker?.stop();
});

async function topicValues(count: number): Promise<string[]> {
  const { stdout } = await run(process.execPath, [KTS_BIN, 'console-consumer', '--bootstrap-server', broker.bootstrap, '--topic', 'connect-test', '--from-beginning', '--timeout-ms', '5000', '--max-messages', String(count + 1)], { timeout: 30_000 });
  return stdout.split('\n').filter(Boolean);
}

describe('kts connect-standalone: the quickstart', () => {
  it('moves foo and bar through connect-test, then a line appended later', async () => {
    writeFileSync(join(dir, 'test.txt'), 'foo\nbar\n'); // echo -e "foo\nbar" > test.txt
    worker = await startWorker(dir, restPort, FILES);
    await waitFor(() => `foo and bar in the sink, have ${JSON.stringify(sinkText())}\n${worker!.output()}`, () => sinkText() === 'foo\nbar\n');
    expect(await topicValues(2)).toEqual(['{"schema":{"type":"string","optional":false},"payload":"foo"}', '{"schema":{"type":"string","optional":false},"payload":"bar"}']);
    appendFileSync(join(dir, 'test.txt'), 'Another line\n'); // echo "Another line" >> test.txt
    await waitFor('the appended line in the sink', () => sinkText() === 'foo\nbar\nAnother line\n');
    const status = await (await fetch(`${worker.url}/connectors/local-file-source/status`)).json();
    expect(status).toMatchObject({ name: 'local-file-source', connector: { state: 'RUNNING' }, tasks: [{ id: 0, state: 'RUNNING' }], type: 'source' });
  });

  it('loses and duplicates no line across three kill -9s of the worker while lines are appended', async () => {
    const expected = ['foo', 'bar', 'Another line'];
    let n = 0;
    const appendSome = (count: number) => {
      const lines = Array.from({ length: count }, () => `line ${++n} ${'x'.repeat(n % 50)}`);
      appendFileSync(join(dir, 'test.txt'), lines.map((l) => `${l}\n`).join(''));
      expected.push(...lines);
    };
    for (let round = 0; round < 3; round++) {
      // Append in small steps until the sink has moved past some of this round's lines, then kill.
      const before = sinkText().length;
      for (let i = 0; i < 200 && sinkText().length <= before + 200; i++) {
        appendSome(7);
        await sleep(5 + Math.floor(Math.random() * 10));
      }
      appendSome(13);
      await worker!.kill9();
      appendSome(11); // written while the worker is down
      worker = await startWorker(dir, restPort, FILES);
    }
    appendSome(5);
    const want = `${expected.join('\n')}\n`;
    await waitFor(() => `every line once in the sink: ${sinkText().length} of ${want.length} bytes`, () => sinkText().length >= want.length, 60_000);
    expect(sinkText()).toBe(want);
    const values = await topicValues(expected.length);
    expect(values.map((v) => JSON.parse(v).payload)).toEqual(expected);
  }, 150_000);
});
