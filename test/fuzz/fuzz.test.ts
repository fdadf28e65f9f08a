// Fuzzing the request path, with a fixed seed in CI and longer on demand:
//   node scripts/fuzz.mjs --cases 20000000 --seed 7
// 1. decoders in-process: header + body of mutated/hostile frames; every failure must be a
//    ProtocolError (1,200,000 cases in CI);
// 2. dispatcher + handlers in-process: hostile but well-formed bodies and mutations through the real
//    RequestDispatcher and handlers over a real log dir; no handler may throw (50,000 cases);
// 3. over TCP to the real broker binary: mutated frames on 8 connections; the broker stays up, its
//    RSS stays bounded and a healthy client is answered throughout (20,000 cases).
// Each prints its figures (`fuzz[...]` lines) so a run can be quoted.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { openHarness, runHandlerFuzz } from './dispatcher-harness.js';
import { runDecoderFuzz, seeds } from './engine.js';
import { runTcpFuzz } from './tcp.js';

const num = (name: string, dflt: number) => (process.env[name] ? Number(process.env[name]) : dflt);
const SEED = num('KTS_FUZZ_SEED', 20261124);
const DECODER_CASES = num('KTS_FUZZ_CASES', 1_200_000);
const HANDLER_CASES = num('KTS_FUZZ_HANDLER_CASES', 50_000);
const TCP_CASES = num('KTS_FUZZ_TCP_CASES', 20_000);
/**
 * Time limits grow with the case counts (the CI numbers run in ~20 s, ~10 s and ~30 s on an idle
 * machine). The work is CPU-bound, so with another suite beside this one it takes many times that
 * (the decoders passed 120 s under a load of 25 on two cores): the limits only catch a hang.
 */
const limit = (cases: number, perCaseMs: number) => Math.max(600_000, cases * perCaseMs * 5);

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
}
describe('fuzz', () => {
  it(`decoders: ${DECODER_CASES.toLocaleString('en-US')} mutated requests, every failure a ProtocolError`, () => {
    const r = runDecoderFuzz(DECODER_CASES, SEED);
    console.log(
      `fuzz[decoders] seed ${SEED}: ${r.cases.toLocaleString('en-US')} cases over ${r.perApi.size} APIs (${seeds().length} seeds) in ${r.ms} ms; ` +
        `decoded ${r.decodedOk.toLocaleString('en-US')}, ProtocolError ${r.protocolErrors.toLocaleString('en-US')}, crashes ${r.crashes.length}`,
    );
    expect(r.crashes).toEqual([]);
    expect(r.cases).toBe(DECODER_CASES);
  }, limit(DECODER_CASES, 0.1));

  it(`dispatcher and handlers: ${HANDLER_CASES.toLocaleString('en-US')} hostile requests, no handler throws`, async () => {
    const h = await openHarness();
    try {
      const r = await runHandlerFuzz(h, HANDLER_CASES, SEED);
      // Late outcomes of requests that were still waiting (long polls) are counted as they end.
      await new Promise((res) => setTimeout(res, 200));
      // Known, reported to the groups owner (src/broker/groups is not ours to change): a member that
      // rejoins with protocols disjoint from the others' passes supportsProtocols (checked against
      // the candidates computed with its old protocols) and completeJoin then fails in vote().
      const known = /JoinGroup of group .* failed: Error: Member .* does not support any of the candidate protocols/;
      const groupVoteErrors = h.handlerErrors.filter((l) => known.test(l));
      const otherErrors = h.handlerErrors.filter((l) => !known.test(l));
      console.log(
        `fuzz[handlers] seed ${SEED}: ${r.cases.toLocaleString('en-US')} cases over ${r.perApi.size} APIs in ${r.ms} ms; ` +
          `responses ${r.responses}, no response ${r.noResponse}, closed (ProtocolError) ${r.closedByProtocolError}, ` +
          `still waiting (long polls) ${r.stillWaiting}, handler exceptions ${r.handlerExceptions}, ` +
          `ERROR lines ${otherErrors.length} (+${groupVoteErrors.length} known JoinGroup protocol-vote errors in src/broker/groups)`,
      );
      expect(otherErrors).toEqual([]);
      expect(r.handlerExceptions).toBe(0);
    } finally {
      await h.close();
    }
  }, limit(HANDLER_CASES, 2));

  describe('over TCP', () => {
    let broker: SpawnedBroker;
    let healthy: RawClient;
    afterAll(async () => {
      healthy?.close();
      await broker?.stop();
    });

    it(`${TCP_CASES.toLocaleString('en-US')} mutated frames to the real broker: it stays up and keeps answering`, async () => {
      broker = await spawnBroker({ overrides: { 'offsets.topic.num.partitions': '2', 'num.partitions': '1' } });
      healthy = await RawClient.connect(broker.port);
      const ping = async () => {
        const res = await healthy.request(18, 3, { clientSoftwareName: 'fuzz-health', clientSoftwareVersion: '1' });
        expect(res.errorCode).toBe(0);
      };
      await healthy.request(19, 4, { topics: [{ name: 'fuzz-topic', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
      await ping();
      const pid = broker.process.pid!;
      const rssBefore = rssKb(pid);
      let rssMax = rssBefore;
      let pings = 0;
      const r = await runTcpFuzz(broker.port, TCP_CASES, SEED, {
        onProgress: async () => {
          await ping();
          pings++;
          rssMax = Math.max(rssMax, rssKb(pid));
        },
      });
      await ping();
      const rssAfter = rssKb(pid);
      rssMax = Math.max(rssMax, rssAfter);
      const crashLines = broker.output().match(/ERROR .*/g) ?? [];
      console.log(
        `fuzz[tcp] seed ${SEED}: ${r.cases.toLocaleString('en-US')} frames in ${r.ms} ms on 8 connections; answered ${r.answered}, ` +
          `closed by broker ${r.closedByBroker}, silent ${r.silent}, reconnects ${r.reconnects}; healthy client answered ${pings + 2} times; ` +
          `broker alive: ${broker.process.exitCode === null}; RSS ${Math.round(rssBefore / 1024)} -> max ${Math.round(rssMax / 1024)} MB; ERROR lines ${crashLines.length}`,
      );
      expect(broker.process.exitCode).toBeNull();
      expect(crashLines.slice(0, 5)).toEqual([]);
      expect(rssMax - rssBefore).toBeLessThan(200 * 1024);
    }, limit(TCP_CASES, 10));
  });
});
