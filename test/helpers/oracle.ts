// The oracle for the kts tools: the same command run with Apache Kafka 3.9's own tool against a real
// Kafka 3.9 broker (on ZooKeeper: kts's coordinator) and with the kts tool against `kts
// server-start`, both brokers prepared the same way; stdout, stderr and exit code must match byte
// for byte. What differs by nature (the broker's address, a record's CreateTime, a member's random
// id) is normalised by each scenario, explicitly and narrowly.
//
// Kafka's outputs are also recorded in test/fixtures/kafka-oracle/<suite>.json
// (scripts/record-kafka-fixtures.mjs), so a machine without Java still compares kts with them; a
// live run checks that the recorded text is still what Kafka prints.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { expect } from 'vitest';
import { kts } from '../e2e/cli/support.js';
import { spawnBroker, type SpawnedBroker } from './broker.js';
import { KAFKA_3, kafkaLib, type KafkaTool, type RealKafka, runKafkaTool, startRealKafka } from './real-kafka.js';
import { type SpawnedCoordinator, spawnCoordinator } from './zookeeper.js';

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

const FIXTURES = resolve(import.meta.dirname, '../fixtures/kafka-oracle');
/** Set by scripts/record-kafka-fixtures.mjs: write what Kafka printed as the suite's fixtures. */
const RECORDING = process.env.KTS_RECORD_ORACLE === '1';

/** Live (Kafka 3.9 installed; required in CI) or against the recorded fixtures. */
export const oracleIsLive = !!kafkaLib(KAFKA_3);

/** Where `{bootstrap}` stands in a command; what it is replaced with in the output. */
export type Side = 'kafka' | 'kts';

export interface OracleSide {
  side: Side;
  bootstrap: string;
  /** Runs the tool of this side (Kafka 3.9's or kts's) with `{bootstrap}` in args replaced. */
  run(tool: KafkaTool, args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<Outcome>;
}

/** The same broker id on both sides: it shows in the tools' output. */
const NODE_ID = 0;

async function startKafkaSide(): Promise<{ side: OracleSide; stop(): Promise<void> }> {
  const zk: SpawnedCoordinator = await spawnCoordinator();
  let kafka: RealKafka;
  try {
    kafka = await startRealKafka(KAFKA_3, {
      zookeeper: `127.0.0.1:${zk.port}`,
      nodeId: NODE_ID,
      // kts's defaults, where Kafka's differ and the tools show them.
      props: { 'offsets.topic.num.partitions': 50 },
    });
  } catch (e) {
    await zk.stop();
    throw e;
  }
  const bootstrap = kafka.bootstrap;
  return {
    side: {
      side: 'kafka',
      bootstrap,
      run: (tool, args, opts = {}) => runKafkaTool(KAFKA_3, tool, fill(args, bootstrap), { input: opts.input, timeoutMs: opts.timeoutMs ?? 90_000 }),
    },
    stop: async () => {
      await kafka.stop();
      await zk.stop();
    },
  };
}

async function startKtsSide(): Promise<{ side: OracleSide; stop(): Promise<void> }> {
  const broker: SpawnedBroker = await spawnBroker({ overrides: { 'broker.id': String(NODE_ID) } });
  return {
    side: { side: 'kts', bootstrap: broker.bootstrap, run: (tool, args, opts = {}) => ktsTool(tool, fill(args, broker.bootstrap), opts) },
    stop: async () => {
      await broker.stop();
    },
  };
}

function fill(args: string[], bootstrap: string): string[] {
  return args.map((a) => a.replaceAll('{bootstrap}', bootstrap));
}

export async function ktsTool(tool: KafkaTool, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Outcome> {
  const r = await kts([tool, ...args], { input: opts.input, timeoutMs: opts.timeoutMs ?? 90_000 });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

export interface OracleScenario {
  name: string;
  tool: KafkaTool;
  args: string[];
  /** kts's arguments when they differ on purpose (a flag name of a later Kafka, e.g. KIP-1147's). */
  ktsArgs?: string[];
  input?: string;
  /** What differs by nature between two runs (a timestamp, a random id): replaced in both outputs. */
  normalise?: (text: string) => string;
  /**
   * A kept difference, explained: what is compared instead of the whole outcome. Each is listed in
   * the README ("Where kts differs from Kafka").
   */
  except?: { why: string; compare: (o: Outcome) => unknown };
  timeoutMs?: number;
}

export interface OracleSuite {
  kts: OracleSide;
  /** Null when comparing against the recorded fixtures. */
  kafka: OracleSide | null;
  /** Every side the scenario's preparation must run on. */
  sides(): OracleSide[];
  /** Runs a scenario on both sides (or kts and the fixture) and expects the same outcome. */
  check(s: OracleScenario): Promise<void>;
  /** Writes the fixtures when recording; stops the brokers. */
  close(): Promise<void>;
}

/** Starts both brokers (kts's only, without Java) for one test file. */
export async function startOracle(suite: string): Promise<OracleSuite> {
  const fixtureFile = join(FIXTURES, `${suite}.json`);
  const recorded: Record<string, Outcome> = existsSync(fixtureFile) ? JSON.parse(readFileSync(fixtureFile, 'utf8')) : {};
  const seen: Record<string, Outcome> = {};
  const [ktsSide, kafkaSide] = await Promise.all([startKtsSide(), oracleIsLive ? startKafkaSide() : Promise.resolve(null)]);

  const normalised = (s: OracleScenario, o: Outcome, side: OracleSide): Outcome => {
    const n = (t: string) => {
      const text = logTimes(t.replaceAll(side.bootstrap, '{bootstrap}'));
      return s.normalise ? s.normalise(text) : text;
    };
    return { code: o.code, stdout: n(o.stdout), stderr: n(o.stderr) };
  };

  return {
    kts: ktsSide.side,
    kafka: kafkaSide?.side ?? null,
    sides: () => [ktsSide.side, ...(kafkaSide ? [kafkaSide.side] : [])],
    async check(s) {
      const opts = { input: s.input, timeoutMs: s.timeoutMs };
      const [ours, theirs] = await Promise.all([
        ktsSide.side.run(s.tool, s.ktsArgs ?? s.args, opts).then((o) => normalised(s, o, ktsSide.side)),
        kafkaSide ? kafkaSide.side.run(s.tool, s.args, opts).then((o) => normalised(s, o, kafkaSide.side)) : Promise.resolve(null),
      ]);
      const fixture = recorded[s.name];
      if (theirs) {
        seen[s.name] = theirs;
        if (!RECORDING) {
          expect(fixture, `no fixture for "${s.name}": run node scripts/record-kafka-fixtures.mjs`).toBeDefined();
          expect(theirs, `Kafka's output no longer matches the fixture: run node scripts/record-kafka-fixtures.mjs`).toEqual(fixture);
        }
      }
      const expected = theirs ?? fixture;
      expect(expected, `no fixture for "${s.name}": run node scripts/record-kafka-fixtures.mjs`).toBeDefined();
      const compare = s.except?.compare ?? ((o: Outcome) => o);
      expect(compare(ours), `kts ${s.tool} ${(s.ktsArgs ?? s.args).join(' ')}\nKafka printed: ${JSON.stringify(expected, null, 1)}`).toEqual(compare(expected!));
    },
    async close() {
      if (RECORDING && kafkaSide) {
        mkdirSync(dirname(fixtureFile), { recursive: true });
        const sorted = Object.fromEntries(Object.keys(seen).sort().map((k) => [k, seen[k]]));
        writeFileSync(fixtureFile, JSON.stringify(sorted, null, 2) + '\n');
      }
      await Promise.all([ktsSide.stop(), kafkaSide?.stop()]);
    },
  };
}

/** CreateTime:<ms> / LogAppendTime:<ms> as console-consumer prints them. */
export const timestamps = (t: string) => t.replace(/\b(CreateTime|LogAppendTime):\d+/g, '$1:{ms}');

/** A console consumer's member id (`console-consumer-<uuid>`, or a client id with a uuid). */
export const memberIds = (t: string) => t.replace(/-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '-{uuid}');

/** The time a log line starts with (`[2024-10-21 10:41:26,123] ERROR ...`, Kafka's tools-log4j pattern). */
const logTimes = (t: string) => t.replace(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] /gm, '[{time}] ');

/**
 * Kept difference: on a usage error Kafka prints the message and then its whole option table on
 * stderr; kts prints the same message and a one-line pointer to `--help` (kts's help is its own
 * text, describing kts). Compared: exit code, stdout and the message line.
 */
export const USAGE_ERROR = {
  why: "usage error: Kafka's option table after the message, kts's one-line pointer to --help",
  compare: (o: Outcome) => ({ code: o.code, stdout: o.stdout, message: o.stderr.split('\n')[0] }),
};

/**
 * Kept difference: where Kafka's tool dies of an exception it prints the exception's Java class
 * before the message and its stack trace after; kts prints the message. Compared: exit code,
 * stdout and stderr without the class prefix and the `\tat ...` frames.
 */
export const JAVA_EXCEPTION = {
  why: "Kafka's tool dies of a Java exception: class name and stack trace around the message",
  compare: (o: Outcome) => ({
    code: o.code,
    stdout: o.stdout,
    stderr: o.stderr
      .split('\n')
      .filter((l) => !/^\tat |^\t\.\.\. \d+ more$/.test(l) && l !== '')
      .map((l) => l.replace(/^(?:[a-z][\w]*\.)+[A-Z][\w$]*(?:Exception|Error): /, ''))
      // Some tools print the message, then the exception carrying it.
      .filter((l, i, all) => l !== all[i - 1])
      .join('\n'),
  }),
};

/**
 * Kept difference: Kafka 3.9's consumer-groups tables miss newlines that 4.x prints (the
 * --reset-offsets rows run together on one line; --describe's last row has no line end). kts
 * prints 4.x's lines. Compared: everything, with the line ends taken out of stdout.
 */
export const ROWS_RUN_TOGETHER = {
  why: "Kafka 3.9's consumer-groups tables lack line ends 4.x prints",
  compare: (o: Outcome) => ({ ...o, stdout: o.stdout.replaceAll('\n', '') }),
};

/**
 * Kept difference: Kafka 3.7-3.9's `--describe --members --verbose` lost the topic in the
 * ASSIGNMENT column (`(0,1)`; 3.6 and 4.x print `orders(0,1)`, as kts does). Compared without
 * the topic names there (and with the line ends of ROWS_RUN_TOGETHER).
 */
export const ASSIGNMENT_WITHOUT_TOPIC = {
  why: "Kafka 3.9's --members --verbose prints partitions without their topic",
  compare: (o: Outcome) => ({ ...o, stdout: o.stdout.replace(/ [\w.-]+\((\d[\d,]*)\)$/gm, ' ($1)') }),
};

/**
 * Kept difference: Kafka 3.9 answers `--describe` without `--group`/`--all-groups` with a wrong
 * option list (`[reset-offsets], [describe], [delete], [list]`; 4.x lists `[all-groups], [group]`);
 * kts names the options that are missing. Compared as a usage error with the list taken out.
 */
export const WRONG_OPTION_LIST = {
  why: 'Kafka 3.9 names the wrong options when --describe lacks a group',
  compare: (o: Outcome) => {
    const usage = USAGE_ERROR.compare(o);
    return { ...usage, message: usage.message.replace(/takes one of these options: .*/, 'takes one of these options: ...') };
  },
};
