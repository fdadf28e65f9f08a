// Issue 14's cleaner benchmark, run by bench/run.mjs as the scenario "compaction": one kts broker.
//   - a topic of 64 MiB of keyed updates (1 KiB values over 2,000 keys, 8 MiB segments) is written
//     with cleanup.policy=delete, then switched to compact (IncrementalAlterConfigs): the cleaner
//     cleans it; its throughput is the bytes it read over the time it spent, from its own log lines
//     ("cleaned offsets ... N bytes read ... D ms");
//   - meanwhile a probe produces one 100-byte record every 5 ms (acks=1) to another topic: produce
//     latency p50/p99 while the cleaner works, against the same probe before it started.
import { percentile, sleep } from './lib/proc.mjs';
import { RawClient, createTopics, startKts } from './lib/servers.mjs';

const TOTAL_MB = Number(process.env.BENCH_COMPACTION_MB ?? 64);
const KEYS = 2000;
const VALUE = 'v'.repeat(1000);

export async function scenarioCompaction({ snap, proto, newDir, track, untrack, addRow, log }) {
  const dataDir = newDir('compaction');
  const kts = await startKts(snap, { dataDir, overrides: { 'log.cleaner.backoff.ms': '100' } });
  track(kts);
  try {
    await createTopics(kts.port, proto, { dirty: 1 }, { 'segment.bytes': String(8 << 20), 'retention.ms': '-1' });
    await createTopics(kts.port, proto, { probe: 1 });
    const raw = await RawClient.connect(kts.port, proto);
    const produce = async (topic, records) => {
      const res = await raw.request(0, 7, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 10000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records: proto.buildRecordBatch(records) }] }],
      });
      const code = res.responses[0].partitionResponses[0].errorCode;
      if (code !== 0) throw new Error(`produce to ${topic}: error ${code}`);
    };
    const total = TOTAL_MB << 20;
    let n = 0;
    for (let bytes = 0; bytes < total; ) {
      const records = Array.from({ length: 200 }, () => ({ key: Buffer.from(`key-${n++ % KEYS}`), value: Buffer.from(VALUE) }));
      await produce('dirty', records);
      bytes += 200 * 1040;
    }
    log(`compaction: ${TOTAL_MB} MiB of updates written (${n} records, ${KEYS} keys)`);

    // The probe: one record every 5 ms on its own connection, latency per produce.
    const probeClient = await RawClient.connect(kts.port, proto);
    const samples = [];
    let phase = 'before';
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const t0 = performance.now();
        await probeClient.request(0, 7, {
          transactionalId: null,
          acks: 1,
          timeoutMs: 10000,
          topicData: [{ name: 'probe', partitionData: [{ index: 0, records: proto.buildRecordBatch([{ key: null, value: Buffer.alloc(100, 1) }]) }] }],
        });
        samples.push({ phase, ms: performance.now() - t0 });
        await sleep(5);
      }
    })();
    await sleep(3000);
    const linesBefore = (kts.output().match(/cleaned offsets/g) ?? []).length;
    phase = 'during';
    const alter = await raw.request(44, 0, {
      resources: [{ resourceType: 2, resourceName: 'dirty', configs: [{ name: 'cleanup.policy', configOperation: 0, value: 'compact' }, { name: 'min.cleanable.dirty.ratio', configOperation: 0, value: '0.01' }] }],
      validateOnly: false,
    });
    if (alter.responses[0].errorCode !== 0) throw new Error(`IncrementalAlterConfigs: error ${alter.responses[0].errorCode}`);
    // Done when the cleaner's log shows a round and no further round for 2 s.
    const deadline = Date.now() + 180_000;
    let last = linesBefore;
    let quietSince = Date.now();
    for (;;) {
      await sleep(200);
      const now = (kts.output().match(/cleaned offsets/g) ?? []).length;
      if (now !== last) {
        last = now;
        quietSince = Date.now();
      }
      if (last > linesBefore && Date.now() - quietSince > 2000) break;
      if (Date.now() > deadline) throw new Error('the cleaner did not finish within 180 s');
    }
    probing = false;
    await probe;
    probeClient.close();
    raw.close();
    let readBytes = 0;
    let ms = 0;
    for (const m of kts.output().matchAll(/cleaned offsets .*?, (\d+) bytes read, (\d+) written, .*?, (\d+) ms/g)) {
      readBytes += Number(m[1]);
      ms += Number(m[3]);
    }
    const mbps = ms > 0 ? readBytes / (1 << 20) / (ms / 1000) : NaN;
    const before = samples.filter((s) => s.phase === 'before').map((s) => s.ms);
    const during = samples.filter((s) => s.phase === 'during').map((s) => s.ms);
    const p99Before = percentile(before, 99);
    const p99During = percentile(during, 99);
    log(`compaction: cleaner read ${(readBytes / (1 << 20)).toFixed(1)} MiB in ${ms} ms = ${mbps.toFixed(1)} MB/s; probe p99 ${p99Before.toFixed(2)} ms before, ${p99During.toFixed(2)} ms during (${during.length} samples)`);
    addRow({ id: 'compaction-mbps', scenario: `log cleaner throughput: ${TOTAL_MB} MiB of 1 KiB updates over ${KEYS} keys (bytes read / cleaning time)`, kts: mbps, unit: 'MB/s' });
    addRow({ id: 'compaction-p99', scenario: 'produce p99 (1 record every 5 ms, acks=1) while the cleaner runs', kts: p99During, ref: p99Before, refName: 'same probe before cleaning', unit: 'ms' });
  } finally {
    await kts.stop();
    untrack(kts);
  }
}
