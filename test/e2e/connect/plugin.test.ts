// A connector written in JavaScript (the README's worked example, extracted from README.md) loaded
// from plugin.path by `kts connect-standalone`: listed by GET /connector-plugins, its ConfigDef
// enforced by POST /connectors, its records transformed by InsertField, ReplaceField and
// RegexRouter on the way out, and resumed from its committed source offset after a restart (no
// number twice). A sink with a Filter behind a negated TopicNameMatches predicate writes only what
// the predicate selects.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, KTS_BIN, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { startWorker, waitFor, type RunningWorker } from './connect-helpers.js';

const run = promisify(execFile);
const README = readFileSync(resolve(import.meta.dirname, '../../../README.md'), 'utf8');
const example = /```js\n(\/\/ plugins\/counter-source\.mjs\n[\s\S]*?)```/.exec(README)?.[1];

let broker: SpawnedBroker;
let dir: string;
let port: number;
let worker: RunningWorker | null = null;

beforeAll(async () => {
  broker = await spawnBroker();
  dir = tempDir('kts-connect-plugin-');
  port = await freePort();
  mkdirSync(join(dir, 'plugins'));
  writeFileSync(join(dir, 'plugins', 'counter-source.mjs'), example ?? '');
  writeFileSync(
    join(dir, 'worker.properties'),
    [
      `bootstrap.servers=${broker.bootstrap}`,
      'key.converter=org.apache.kafka.connect.storage.StringConverter',
      'value.converter=org.apache.kafka.connect.json.JsonConverter',
      `offset.storage.file.filename=${join(dir, 'offsets.json')}`,
      'offset.flush.interval.ms=500',
      `listeners=http://127.0.0.1:${port}`,
      'plugin.path=plugins',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await worker?.stop();
  await broker?.stop();
});

const post = (body: unknown) => fetch(`${worker!.url}/connectors`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

const counterConfig = (count: number) => ({
  'connector.class': 'CounterSourceConnector',
  topic: 'numbers-raw',
  count: String(count),
  transforms: 'origin,rename,route',
  'transforms.origin.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
  'transforms.origin.static.field': 'origin',
  'transforms.origin.static.value': 'kts',
  'transforms.origin.topic.field': 'from',
  'transforms.rename.type': 'org.apache.kafka.connect.transforms.ReplaceField$Value',
  'transforms.rename.renames': 'square:sq',
  'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
  'transforms.route.regex': '(.*)-raw',
  'transforms.route.replacement': '$1',
});

async function numbers(expected: number): Promise<string[]> {
  const { stdout } = await run(process.execPath, [KTS_BIN, 'console-consumer', '--bootstrap-server', broker.bootstrap, '--topic', 'numbers', '--from-beginning', '--property', 'print.key=true', '--max-messages', String(expected + 1), '--timeout-ms', '3000'], { timeout: 30_000 });
  return stdout.split('\n').filter(Boolean);
}

const line = (n: number) =>
  `n-${n}\t{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"n"},{"type":"int64","optional":false,"field":"sq"},{"type":"string","optional":true,"field":"from"},{"type":"string","optional":true,"field":"origin"}],"optional":false,"name":"counter.Value"},` +
  `"payload":{"n":${n},"sq":${n * n},"from":"numbers-raw","origin":"kts"}}`;

describe('a connector from plugin.path: the README example', () => {
  it('is found in the README', () => {
    expect(example).toContain('export class CounterSourceConnector');
  });

  it('is listed, validated, transformed, and resumes from its offset after a restart', async () => {
    worker = await startWorker(dir, port, ['worker.properties']);
    const plugins = await (await fetch(`${worker.url}/connector-plugins`)).json();
    expect(plugins).toContainEqual({ class: 'CounterSourceConnector', type: 'source', version: '1.0.0' });

    const missing = await post({ name: 'counter', config: { 'connector.class': 'CounterSourceConnector' } });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { message: string }).message).toContain('Missing required configuration "topic" which has no default value.');
    const tooSmall = await post({ name: 'counter', config: { ...counterConfig(5), count: '0' } });
    expect(tooSmall.status).toBe(400);
    expect(((await tooSmall.json()) as { message: string }).message).toContain('Invalid value 0 for configuration count: Value must be at least 1');

    const created = await post({ name: 'counter', config: counterConfig(5) });
    expect(created.status).toBe(201);
    await waitFor('5 numbers', async () => (await numbers(5)).length === 5);
    expect(await numbers(5)).toEqual([1, 2, 3, 4, 5].map(line));
    await waitFor('offset n=5 committed', async () => {
      const body = (await (await fetch(`${worker!.url}/connectors/counter/offsets`)).json()) as { offsets?: { offset?: { n?: number } }[] };
      return body.offsets?.[0]?.offset?.n === 5;
    });

    // Restarted with the connector in a JSON file counting further: it goes on from 6.
    await worker.stop();
    writeFileSync(join(dir, 'counter.json'), JSON.stringify({ name: 'counter', config: counterConfig(8) }));
    worker = await startWorker(dir, port, ['worker.properties', 'counter.json']);
    await waitFor('8 numbers', async () => (await numbers(8)).length >= 8);
    expect(await numbers(8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map(line));
  });

  it('runs a sink whose Filter drops the records a negated predicate selects', async () => {
    const res = await post({
      name: 'odd-sink',
      config: {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        topics: 'numbers',
        file: join(dir, 'sink.txt'),
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        transforms: 'keepNumbers',
        'transforms.keepNumbers.type': 'org.apache.kafka.connect.transforms.Filter',
        'transforms.keepNumbers.predicate': 'isNumbers',
        'transforms.keepNumbers.negate': 'true',
        predicates: 'isNumbers',
        'predicates.isNumbers.type': 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
        'predicates.isNumbers.pattern': 'num.*',
      },
    });
    expect(res.status).toBe(201);
    await waitFor('8 lines in the sink', () => existsSync(join(dir, 'sink.txt')) && readFileSync(join(dir, 'sink.txt'), 'utf8').split('\n').length === 9);
    expect(readFileSync(join(dir, 'sink.txt'), 'utf8')).toBe([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `${line(n).split('\t')[1]}\n`).join(''));
    // The same sink with the predicate not negated drops every record of the topic.
    const dropAll = await post({
      name: 'drop-all',
      config: {
        'connector.class': 'FileStreamSink',
        topics: 'numbers',
        file: join(dir, 'none.txt'),
        transforms: 'drop',
        'transforms.drop.type': 'org.apache.kafka.connect.transforms.Filter',
        'transforms.drop.predicate': 'isNumbers',
        predicates: 'isNumbers',
        'predicates.isNumbers.type': 'TopicNameMatches',
        'predicates.isNumbers.pattern': 'num.*',
      },
    });
    expect(dropAll.status).toBe(201);
    await waitFor('the drop-all sink to commit past the 8 records', async () => {
      const { stdout } = await run(process.execPath, [KTS_BIN, 'consumer-groups', '--bootstrap-server', broker.bootstrap, '--describe', '--group', 'connect-drop-all'], { timeout: 30_000 });
      return / 8 +8 +0 /.test(stdout);
    });
    expect(readFileSync(join(dir, 'none.txt'), 'utf8')).toBe('');
  });
});
