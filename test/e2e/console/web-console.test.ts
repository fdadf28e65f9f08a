// `kts console` in headless Chromium (Debian's chromium, driven by playwright-core): the overview,
// a topic browsed to a given offset, a produced message found again, a consumer group's lag falling
// while a kafkajs consumer runs, and offsets reset and a topic deleted behind their confirmations.
// Screenshots go to test-results/console/ (git-ignored) as the run's artefacts.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, KTS_BIN, spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';
import { requireTool } from '../../helpers/tools.js';
import type { ChildProcess } from 'node:child_process';

// Browser globals, for the callbacks that run in the page (the project compiles without the DOM lib).
declare const document: any, window: any, location: any;

const chromiumPath = requireTool('chromium', ['/usr/bin/chromium']);
const SHOTS = resolve(import.meta.dirname, '../../../test-results/console');

/** Starts `kts console` and resolves with its URL and the time from spawn to the first page served. */
async function startConsole(bootstrap: string): Promise<{ child: ChildProcess; url: string; firstPageMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const started = performance.now();
  const child = spawnTracked(process.execPath, [KTS_BIN, 'console', '--bootstrap-server', bootstrap, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kts console exited ${child.exitCode}: ${out}`);
    const res = await fetch(url).catch(() => null);
    if (res?.ok) {
      const html = await res.text();
      expect(html).toContain('<title>kts console</title>');
      const firstPageMs = performance.now() - started;
      expect(out).toContain(`kts console: ${url}`);
      return { child, url, firstPageMs };
    }
    if (performance.now() - started > 20_000) throw new Error(`kts console served nothing within 20 s: ${out}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.skipIf(!chromiumPath)('kts console in headless Chromium', () => {
  let broker: SpawnedBroker;
  let consoleProcess: ChildProcess;
  let url: string;
  let browser: Browser;
  let page: Page;
  let kafka: Kafka;
  const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    broker = await spawnBroker();
    kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, clientId: 'console-test' });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    // 10 records per partition, JSON values that say where they are.
    for (let partition = 0; partition < 3; partition++) {
      await producer.send({
        topic: 'orders',
        messages: Array.from({ length: 10 }, (_, i) => ({ partition, key: `order-${partition}-${i}`, value: JSON.stringify({ partition, n: i, items: ['a', 'b'] }), headers: { source: 'test' } })),
      });
    }
    await producer.disconnect();
    const started = await startConsole(broker.bootstrap);
    consoleProcess = started.child;
    url = started.url;
    console.log(`kts console: first page served ${started.firstPageMs.toFixed(0)} ms after the process was spawned`);
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The page needs nothing from the network: any request elsewhere fails the test.
    page.on('request', (req) => {
      if (!req.url().startsWith(url)) throw new Error(`the page requested ${req.url()}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
    if (consoleProcess) await stopProcess(consoleProcess, 'SIGTERM', 10_000);
    await broker?.stop();
  });

  it('shows the cluster overview', async () => {
    await page.goto(url);
    await page.locator('#overview').waitFor();
    expect(await page.locator('#overview-brokers .value').textContent()).toBe('1');
    expect(await page.locator('#overview-under-replicated .value').textContent()).toBe('0');
    expect(await page.locator('#brokers tbody tr').count()).toBe(1);
    await shot('1-overview');
  });

  it('browses a topic to a given offset, values pretty-printed', async () => {
    await page.click('a[data-nav="topics"]');
    await page.locator('#topics tr[data-topic="orders"]').waitFor();
    await page.click('#topics a:text-is("orders")');
    await page.locator('#partitions tbody tr').nth(2).waitFor();
    expect(await page.locator('#partitions tbody tr').count()).toBe(3);
    await page.selectOption('#browse-partition', '1');
    await page.fill('#browse-offset', '5');
    await page.fill('#browse-limit', '3');
    await page.click('#browse');
    await page.waitForFunction(() => document.querySelector('#messages tr.record')?.getAttribute('data-offset') === '5' && document.querySelectorAll('#messages tr.record').length === 3);
    const rows = await page.$$eval('#messages tr.record', (trs) => trs.map((tr) => [tr.getAttribute('data-partition'), tr.getAttribute('data-offset')]));
    expect(rows).toEqual([['1', '5'], ['1', '6'], ['1', '7']]);
    const value = await page.locator('#messages tr.record').first().locator('pre.json').textContent();
    expect(value).toBe(JSON.stringify({ partition: 1, n: 5, items: ['a', 'b'] }, null, 2));
    expect(await page.locator('#messages tr.record').first().textContent()).toContain('order-1-5');
    expect(await page.locator('#messages tr.record .headers').first().textContent()).toBe('source=test');
    await shot('2-browse-offset');
  });

  it('produces a message and finds it by offset and by search', async () => {
    await page.selectOption('#produce-partition', '2');
    await page.fill('#produce-key', 'find-me');
    await page.fill('#produce-value', '{"hello":"console","n":42}');
    await page.fill('#produce-headers', 'trace=abc-123');
    await page.click('#produce');
    await page.locator('#produced').waitFor();
    expect(await page.locator('#produced').textContent()).toContain('partition 2 at offset 10');
    await page.click('#show-produced');
    await page.waitForFunction(() => document.querySelector('#messages tr.record')?.getAttribute('data-offset') === '10');
    expect(await page.locator('#messages tr.record').first().textContent()).toContain('find-me');
    // Search every partition for text in a header.
    await page.selectOption('#browse-partition', '');
    await page.fill('#browse-offset', '');
    await page.fill('#browse-search', 'abc-123');
    await page.click('#browse');
    await page.waitForFunction(() => /while searching/.test(document.getElementById('browse-summary')!.textContent ?? ''));
    const found = await page.$$eval('#messages tr.record', (trs) => trs.map((tr) => [tr.getAttribute('data-partition'), tr.getAttribute('data-offset')]));
    expect(found).toEqual([['2', '10']]);
    expect(await page.locator('#messages tr.record pre.json').textContent()).toBe(JSON.stringify({ hello: 'console', n: 42 }, null, 2));
    await shot('3-produced-and-found');
  });

  it("shows a consumer group's lag falling while a consumer runs, then resets it behind a confirmation", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: 'billing', topic: 'orders', partitions: [0, 1, 2].map((partition) => ({ partition, offset: '0' })) });
    await admin.disconnect();
    await page.click('a[data-nav="groups"]');
    await page.locator('#groups tr[data-group="billing"]').waitFor();
    await page.click('#groups a:text-is("billing")');
    await page.locator('#group-lag').waitFor();
    expect(await page.locator('#group-lag').textContent()).toBe('31');
    expect(await page.locator('#group-partitions tbody tr').count()).toBe(3);

    const consumer = kafka.consumer({ groupId: 'billing', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    // One record at a time, committed after each, so the lag falls step by step.
    await consumer.run({ autoCommitThreshold: 1, eachMessage: () => new Promise((r) => setTimeout(r, 150)) });
    // What the page shows, sampled until it reaches 0: it only falls, through values in between.
    const seen: number[] = [];
    const deadline = Date.now() + 45_000;
    while (seen.at(-1) !== 0) {
      if (Date.now() > deadline) throw new Error(`lag never reached 0 on the page (seen ${seen.join(' ')})`);
      const shown = Number(await page.locator('#group-lag').textContent());
      if (shown !== seen.at(-1)) seen.push(shown);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen[0]).toBe(31);
    expect(seen.some((v) => v > 0 && v < 31), `seen ${seen.join(' ')}`).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeLessThan(seen[i - 1]);
    // The chart drew the same history: its points start at 31 and end at 0.
    const drawn = await page.evaluate(() => (window as any).lagChart.points.map((p: { value: number }) => p.value));
    expect(drawn[0]).toBe(31);
    expect(drawn.at(-1)).toBe(0);
    expect(drawn.length).toBeGreaterThan(2);
    await shot('4-group-lag-fell');
    expect(await page.locator('#group-members').textContent()).toBe('1');
    await consumer.disconnect();
    await page.waitForFunction(() => document.getElementById('group-members')?.textContent === '0', null, { timeout: 30_000 });

    // Reset to earliest: the dialog's button stays disabled until the group id is typed.
    await page.selectOption('#reset-to', 'earliest');
    await page.click('#reset');
    await page.locator('#confirm[open]').waitFor();
    expect(await page.locator('#confirm-ok').isDisabled()).toBe(true);
    await page.fill('#confirm-input', 'billin');
    expect(await page.locator('#confirm-ok').isDisabled()).toBe(true);
    await page.fill('#confirm-input', 'billing');
    await page.click('#confirm-ok');
    await page.locator('#reset-result .notice').waitFor();
    await page.waitForFunction(() => document.getElementById('group-lag')?.textContent === '31', null, { timeout: 10_000 });
    await shot('5-group-reset');
  });

  it('says so on the page when the cluster cannot be reached, and serves the page all the same', async () => {
    const deadPort = await freePort();
    const dead = await startConsole(`127.0.0.1:${deadPort}`);
    try {
      const other = await browser.newPage();
      await other.goto(dead.url);
      await other.locator('.error').waitFor({ timeout: 20_000 });
      expect(await other.locator('.error').textContent()).toContain(`127.0.0.1:${deadPort}`);
      expect(await other.locator('#status').textContent()).toBe('cluster unreachable');
      await other.screenshot({ path: `${SHOTS}/7-cluster-unreachable.png` });
      await other.close();
    } finally {
      await stopProcess(dead.child, 'SIGTERM', 10_000);
    }
  });

  it('creates and deletes a topic, the deletion behind a typed confirmation', async () => {
    await page.click('a[data-nav="topics"]');
    await page.fill('#create-topic-name', 'doomed');
    await page.fill('input[name="partitions"]', '2');
    await page.click('#create-topic');
    await page.waitForFunction(() => location.hash === '#/topic/doomed');
    await page.locator('#partitions tbody tr').nth(1).waitFor();
    await page.click('#delete-topic');
    await page.locator('#confirm[open]').waitFor();
    await page.click('#confirm-cancel');
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.listTopics()).toContain('doomed');
    await page.click('#delete-topic');
    await page.fill('#confirm-input', 'doomed');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => location.hash === '#/topics');
    await page.locator('#topics tr[data-topic="orders"]').waitFor();
    for (let i = 0; i < 100 && (await admin.listTopics()).includes('doomed'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await admin.listTopics()).not.toContain('doomed');
    await admin.disconnect();
    // The server refuses a deletion that was not confirmed, whatever the page does.
    const res = await fetch(`${url}api/topics/orders`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain('confirm');
    await shot('6-topics-after-delete');
  });
});
