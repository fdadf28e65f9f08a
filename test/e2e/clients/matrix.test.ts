// The client matrix: every client in matrix.json, through its driver (drivers/, protocol.md),
// against one kts broker, feature by feature (scenarios.ts). A cell is either "pass" (the
// feature's checks hold) or a documented limitation of the client, which must still show as
// documented (the driver reports "not offered", or the run fails with the recorded message): a
// limited cell that starts passing fails here until matrix.json says so. The README's table is
// generated from matrix.json (scripts/client-matrix-readme.mjs) and checked by
// test/unit/client-matrix-readme.test.ts, so what the README says is what this suite runs.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interopRequired } from '../../helpers/tools.js';
import { connectClients, startTestBroker, type TestBroker } from '../groups/support.js';
import { driverFor } from './drivers.js';
import { runDriver, type DriverCommand } from './runner.js';
import { FEATURES, RUN, type Feature, type MatrixBroker } from './scenarios.js';

interface Limited {
  limited: string;
  /** "unsupported": the driver says the client does not offer it; otherwise a regex the failure matches. */
  shows: string;
}
interface ClientEntry {
  label: string;
  version?: string;
  unavailable?: string;
  cells?: Partial<Record<Feature, Limited>>;
}
const MATRIX: { clients: Record<string, ClientEntry> } = JSON.parse(readFileSync(resolve(import.meta.dirname, 'matrix.json'), 'utf8'));
const ONLY = process.env.KTS_MATRIX_CLIENTS?.split(',');

const OVERRIDES = {
  'group.consumer.session.timeout.ms': '6000',
  'group.consumer.min.session.timeout.ms': '1000',
  'group.consumer.heartbeat.interval.ms': '500',
  'group.consumer.min.heartbeat.interval.ms': '100',
  'offsets.topic.num.partitions': '5',
};

describe('client matrix', () => {
  let testBroker: TestBroker;
  let broker: MatrixBroker;
  const clients: { disconnect?: () => Promise<void> } = {};
  const tally = { passed: 0, limited: 0, notes: [] as string[] };

  beforeAll(async () => {
    testBroker = await startTestBroker({ overrides: OVERRIDES });
    const { admin, producer } = await connectClients(testBroker.bootstrap);
    broker = { bootstrap: testBroker.bootstrap, port: testBroker.port, dataDir: testBroker.dataDir, admin, producer };
    clients.disconnect = async () => {
      await producer.disconnect();
      await admin.disconnect();
    };
  });
  afterAll(async () => {
    console.log(`[matrix] ${tally.passed} cells passed, ${tally.limited} limited as documented${tally.notes.length ? `; ${tally.notes.join('; ')}` : ''}`);
    await clients.disconnect?.();
    await testBroker?.stop();
  });

  for (const [client, entry] of Object.entries(MATRIX.clients)) {
    if (entry.unavailable || (ONLY && !ONLY.includes(client))) continue;
    describe.concurrent(client, () => {
      let driver: DriverCommand | null = null;
      let missing = '';
      beforeAll(() => {
        try {
          driver = driverFor(client);
        } catch (e) {
          missing = (e as Error).message;
          if (interopRequired) throw e;
        }
      }, 600_000);

      it(`is ${entry.label} ${entry.version}`, async ({ skip }) => {
        if (!driver) return skip(missing);
        const o = await runDriver(driver, 'version', {});
        expect(o.kind === 'result' ? o.result.version : o).toBe(entry.version);
      });

      for (const feature of FEATURES) {
        const limited = entry.cells?.[feature];
        it(`${feature}${limited ? ' (limited)' : ''}`, async ({ skip }) => {
          if (!driver) return skip(missing);
          const cell = { broker, driver, name: `${client}-${feature}` };
          if (!limited) {
            const r = await RUN[feature](cell);
            expect(r.status === 'unsupported' ? `not offered: ${r.reason}` : 'pass').toBe('pass');
            tally.passed++;
            if (r.status === 'pass' && r.note) tally.notes.push(`${client} ${feature}: ${r.note}`);
            return;
          }
          let shown: string;
          try {
            const r = await RUN[feature](cell);
            shown = r.status === 'unsupported' ? 'unsupported' : 'PASSES NOW: mark it "pass" in matrix.json';
          } catch (e) {
            shown = (e as Error).message;
          }
          if (limited.shows === 'unsupported') expect(shown).toBe('unsupported');
          else expect(shown).toMatch(new RegExp(limited.shows));
          tally.limited++;
        }, 240_000);
      }
    });
  }
});
