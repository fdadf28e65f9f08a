// Issue 16's benchmark, run by bench/run.mjs as the scenario "ssl": one kts broker with a PLAINTEXT,
// an SSL and a SASL_SSL listener (certificates from `kts certs`, ECDSA P-256; no client
// certificates), all on this machine.
//   - produce: kcat sends 1M x 100 B (acks=1, one partition) over SSL and over PLAINTEXT,
//     alternately; records/s over SSL against PLAINTEXT (goal >= 0.6);
//   - consume: kcat reads the same 1M records to the end over each (goal >= 0.6);
//   - connection set-up: `kcat -L` (connect, ApiVersions, Metadata, exit) over SASL_SSL with
//     SCRAM-SHA-512 (4096 iterations) against PLAINTEXT, the median of 10 alternating runs (report).
import { join } from 'node:path';
import { median } from './lib/proc.mjs';
import { createTopics, freePort, startKts } from './lib/servers.mjs';

const SETUP_RUNS = 10;

export async function scenarioSsl({ snap, proto, KCAT, F100, N, newDir, track, untrack, addRow, log, rounds, kcatProduce, kcatConsume, kcatFailed, run }) {
  if (!KCAT) return 'kcat not installed (apt-get install kcat)';
  const dir = newDir('ssl');
  const certs = join(dir, 'certs');
  const made = await run(process.execPath, [snap.bin, 'certs', '--dir', certs], { timeoutMs: 30_000 });
  if (made.code !== 0) throw new Error(`kts certs failed: ${made.stderr}`);
  const [port, sslPort, saslPort] = [await freePort(), await freePort(), await freePort()];
  const kts = track(
    await startKts(snap, {
      dataDir: join(dir, 'data'),
      port,
      overrides: {
        listeners: `PLAINTEXT://127.0.0.1:${port},SSL://127.0.0.1:${sslPort},SASL_SSL://127.0.0.1:${saslPort}`,
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': join(certs, 'broker.pem'),
        'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      },
    }),
  );
  const user = await run(process.execPath, [snap.bin, 'configs', '--bootstrap-server', `127.0.0.1:${port}`, '--alter', '--add-config', 'SCRAM-SHA-512=[password=bench-secret]', '--entity-type', 'users', '--entity-name', 'bench'], { timeoutMs: 30_000 });
  if (user.code !== 0) throw new Error(`kts configs (SCRAM user) failed: ${user.stderr}`);
  await createTopics(port, proto, { 'p-plain': 1, 'p-ssl': 1, c: 1 });
  const tls = ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${join(certs, 'ca.pem')}`];
  const scram = ['-X', 'security.protocol=sasl_ssl', '-X', `ssl.ca.location=${join(certs, 'ca.pem')}`, '-X', 'sasl.mechanisms=SCRAM-SHA-512', '-X', 'sasl.username=bench', '-X', 'sasl.password=bench-secret'];
  const via = {
    plain: { bootstrap: `127.0.0.1:${port}`, extra: [] },
    ssl: { bootstrap: `127.0.0.1:${sslPort}`, extra: tls },
  };

  log(`ssl: kcat produce and consume 1M x 100 B over SSL and PLAINTEXT, ${rounds} rounds; kcat -L over SASL_SSL/SCRAM-SHA-512 vs PLAINTEXT, ${SETUP_RUNS} runs`);
  const produce = { plain: [], ssl: [] };
  for (let r = 0; r < rounds; r++) {
    for (const who of r % 2 ? ['ssl', 'plain'] : ['plain', 'ssl']) {
      const res = await kcatProduce(via[who].bootstrap, `p-${who}`, F100, via[who].extra);
      const fail = kcatFailed(res);
      if (fail) throw new Error(`kcat produce over ${who} failed: ${fail}`);
      produce[who].push(N / (res.wallMs / 1000));
      log(`  produce round ${r + 1} ${who}: ${(res.wallMs / 1000).toFixed(2)} s`);
    }
  }
  const loaded = await kcatProduce(via.plain.bootstrap, 'c', F100);
  if (kcatFailed(loaded)) throw new Error(`loading topic c failed: ${kcatFailed(loaded)}`);
  const consume = { plain: [], ssl: [] };
  for (let r = 0; r < rounds; r++) {
    for (const who of r % 2 ? ['ssl', 'plain'] : ['plain', 'ssl']) {
      const res = await kcatConsume(via[who].bootstrap, 'c', via[who].extra);
      const fail = kcatFailed(res);
      if (fail) throw new Error(`kcat consume over ${who} failed: ${fail}`);
      if (res.lines !== N) throw new Error(`kcat consume over ${who} read ${res.lines} records, not ${N}`);
      consume[who].push(N / (res.wallMs / 1000));
      log(`  consume round ${r + 1} ${who}: ${(res.wallMs / 1000).toFixed(2)} s`);
    }
  }
  const setup = { plain: [], scram: [] };
  for (let i = 0; i < SETUP_RUNS; i++) {
    for (const who of i % 2 ? ['scram', 'plain'] : ['plain', 'scram']) {
      const [bootstrap, extra] = who === 'plain' ? [via.plain.bootstrap, []] : [`127.0.0.1:${saslPort}`, scram];
      const res = await run(KCAT, ['-L', '-b', bootstrap, ...extra, '-t', 'c'], { timeoutMs: 30_000 });
      const fail = kcatFailed(res);
      if (fail) throw new Error(`kcat -L over ${who} failed: ${fail}`);
      setup[who].push(res.wallMs);
    }
  }
  await kts.stop();
  untrack(kts);

  const goal = { unit: 'records/s', goal: '>= 0.6x', goalMin: 0.6, refName: 'PLAINTEXT, same broker' };
  addRow({ id: 'ssl-produce', scenario: 'kcat produce 1M x 100 B over SSL vs PLAINTEXT (records/s, acks=1)', kts: median(produce.ssl), ref: median(produce.plain), rounds: { kts: produce.ssl, ref: produce.plain }, ...goal });
  addRow({ id: 'ssl-consume', scenario: 'kcat consume 1M x 100 B to the end over SSL vs PLAINTEXT (records/s)', kts: median(consume.ssl), ref: median(consume.plain), rounds: { kts: consume.ssl, ref: consume.plain }, ...goal });
  addRow({
    id: 'sasl-ssl-setup',
    scenario: 'kcat -L (connect, authenticate, Metadata, exit) over SASL_SSL with SCRAM-SHA-512 vs PLAINTEXT',
    kts: median(setup.scram),
    ref: median(setup.plain),
    refName: 'PLAINTEXT kcat -L',
    unit: 'ms',
    rounds: { kts: setup.scram, ref: setup.plain },
  });
}
