// The user's walkthrough (seed), word for word with `kts` in place of `kafka-*` (and the broker's
// port in place of 9092): create `test`, list it, a consumer from the beginning in one shell, a
// producer fed from another; the consumer prints what was typed, and Ctrl-C ends it cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { kts, startKts, STACK_LINE } from './support.js';

describe('seed walkthrough', () => {
  let broker: SpawnedBroker;
  let bootstrap: string;
  beforeAll(async () => {
    broker = await spawnBroker();
    bootstrap = `localhost:${broker.port}`;
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('kts topics --create ... --topic test', async () => {
    const r = await kts(['topics', '--create', '--bootstrap-server', bootstrap, '--replication-factor', '1', '--partitions', '1', '--topic', 'test']);
    expect(r).toMatchObject({ code: 0, stdout: 'Created topic test.\n', stderr: '' });
  });

  it('kts topics --list shows it', async () => {
    const r = await kts(['topics', '--list', '--bootstrap-server', bootstrap]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toContain('test');
    expect(r.stdout.endsWith('\n')).toBe(true);
  });

  it('a consumer from the beginning prints what the producer sends; Ctrl-C ends it', async () => {
    const consumer = startKts(['console-consumer', '--bootstrap-server', bootstrap, '--topic', 'test', '--from-beginning']);
    const produced = await kts(['console-producer', '--broker-list', bootstrap, '--topic', 'test'], { input: 'New sale happened\nRefund\nSale\n' });
    expect(produced).toMatchObject({ code: 0, stdout: '', stderr: '' });
    await consumer.waitForStdout((s) => s.includes('Sale\n') && s.split('\n').length > 3);
    const done = await consumer.stop('SIGINT');
    expect(done.stdout).toBe('New sale happened\nRefund\nSale\n');
    expect(done.stderr).toBe('Processed a total of 3 messages\n');
    expect(done.code).toBe(130);
    expect(done.stderr).not.toMatch(STACK_LINE);
  });

  it('the producer waits for a topic the broker auto-creates', async () => {
    const r = await kts(['console-producer', '--bootstrap-server', bootstrap, '--topic', 'auto-made'], { input: 'x\n' });
    expect(r.code).toBe(0);
    const c = await kts(['console-consumer', '--bootstrap-server', bootstrap, '--topic', 'auto-made', '--from-beginning', '--max-messages', '1']);
    expect(c).toMatchObject({ code: 0, stdout: 'x\n', stderr: 'Processed a total of 1 messages\n' });
  });
});
