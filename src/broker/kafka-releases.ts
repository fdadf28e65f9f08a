// What real Kafka releases answer to ApiVersions, for `--as-kafka 3.9|4.0|4.4` (config key
// kts.as.kafka): the broker then advertises and accepts exactly that release's version ranges (cut
// to what kts implements), so a user can check a client against the oldest cluster they run.
//
// The tables are the answers of real brokers (KRaft, one node, default settings) recorded by
// test/e2e/real-kafka/as-kafka.test.ts, which compares kts's answer with a live Kafka 4.4 and 3.9 on
// every run; 4.0's was recorded once from Kafka 4.0.0 the same way. Features: the supported ones are
// what ApiVersions v4+ lists (v3 leaves out those with minimum 0, as Kafka does for old clients).

export const AS_KAFKA_RELEASES = ['3.9', '4.0', '4.4'] as const;
export type AsKafka = (typeof AS_KAFKA_RELEASES)[number];

export type VersionRange = readonly [min: number, max: number];

export interface SupportedFeature {
  name: string;
  minVersion: number;
  maxVersion: number;
}
export interface FinalizedFeature {
  name: string;
  minVersionLevel: number;
  maxVersionLevel: number;
}

export interface KafkaRelease {
  readonly release: AsKafka;
  /** Every API key the release advertises, with its range. */
  readonly apis: ReadonlyMap<number, VersionRange>;
  /**
   * Versions advertised but refused on use. Kafka 4 still lists Produce v0-2 (librdkafka decides
   * from the advertised minimum whether it may compress, KAFKA-18659) but closes the connection of
   * a request at those versions, as for any version it does not know.
   */
  readonly advertisedOnly: ReadonlyMap<number, VersionRange>;
  readonly supportedFeatures: readonly SupportedFeature[];
  readonly finalizedFeatures: readonly FinalizedFeature[];
}

/** `key:min-max` pairs, the compact form of an ApiVersions answer. */
function ranges(table: string): Map<number, VersionRange> {
  return new Map(
    table
      .trim()
      .split(/\s+/)
      .map((entry) => {
        const m = /^(\d+):(\d+)-(\d+)$/.exec(entry);
        if (!m) throw new Error(`bad version range ${entry}`);
        return [Number(m[1]), [Number(m[2]), Number(m[3])] as const];
      }),
  );
}

const supported = (name: string, minVersion: number, maxVersion: number): SupportedFeature => ({ name, minVersion, maxVersion });
const finalized = (name: string, level: number): FinalizedFeature => ({ name, minVersionLevel: level, maxVersionLevel: level });

export const KAFKA_RELEASES: Readonly<Record<AsKafka, KafkaRelease>> = {
  '4.4': {
    release: '4.4',
    apis: ranges(`
      0:0-13 1:4-18 2:1-11 3:0-13 8:2-10 9:1-10 10:0-6 11:0-9 12:0-4 13:0-5 14:0-5 15:0-6 16:0-5 17:0-1
      18:0-5 19:2-7 20:1-6 21:0-2 22:0-5 23:2-4 24:0-5 25:0-4 26:0-5 27:1-2 28:0-6 29:1-3 30:1-3 31:1-3
      32:1-4 33:0-2 34:1-2 35:1-5 36:0-2 37:0-3 38:1-3 39:1-2 40:1-2 41:1-3 42:0-3 43:0-2 44:0-1 45:0-1
      46:0-0 47:0-0 48:0-1 49:0-1 50:0-0 51:0-0 55:0-2 57:0-2 60:0-2 61:0-0 64:0-0 65:0-0 66:0-2 68:0-1
      69:0-1 74:0-1 75:0-0 76:1-1 77:1-1 78:1-2 79:1-2 80:0-1 81:0-0 83:0-0 84:0-0 85:0-1 86:0-0 87:0-1
      88:0-1 89:0-1 90:0-1 91:0-0 92:0-0 93:0-0 94:0-0`),
    advertisedOnly: ranges('0:0-2'),
    supportedFeatures: [
      supported('group.version', 0, 1),
      supported('kraft.version', 0, 1),
      supported('metadata.version', 7, 33),
      supported('share.version', 0, 2),
      supported('streams.version', 0, 1),
      supported('transaction.version', 0, 2),
      supported('eligible.leader.replicas.version', 0, 1),
    ],
    finalizedFeatures: [
      finalized('group.version', 1),
      finalized('streams.version', 1),
      finalized('transaction.version', 2),
      finalized('eligible.leader.replicas.version', 1),
      finalized('share.version', 2),
      finalized('metadata.version', 33),
    ],
  },
  '4.0': {
    release: '4.0',
    apis: ranges(`
      0:0-12 1:4-17 2:1-10 3:0-13 8:2-9 9:1-9 10:0-6 11:2-9 12:0-4 13:0-5 14:0-5 15:0-6 16:0-5 17:0-1
      18:0-4 19:2-7 20:1-6 21:0-2 22:0-5 23:2-4 24:0-5 25:0-4 26:0-5 27:1-1 28:0-5 29:1-3 30:1-3 31:1-3
      32:1-4 33:0-2 34:1-2 35:1-4 36:0-2 37:0-3 38:1-3 39:1-2 40:1-2 41:1-3 42:0-2 43:0-2 44:0-1 45:0-0
      46:0-0 47:0-0 48:0-1 49:0-1 50:0-0 51:0-0 55:0-2 57:0-2 60:0-2 61:0-0 64:0-0 65:0-0 66:0-1 68:0-1
      69:0-1 74:0-0 75:0-0 80:0-0 81:0-0`),
    advertisedOnly: ranges('0:0-2'),
    supportedFeatures: [
      supported('group.version', 0, 1),
      supported('kraft.version', 0, 1),
      supported('metadata.version', 7, 25),
      supported('transaction.version', 0, 2),
      supported('eligible.leader.replicas.version', 0, 1),
    ],
    finalizedFeatures: [finalized('group.version', 1), finalized('transaction.version', 2), finalized('metadata.version', 25)],
  },
  '3.9': {
    release: '3.9',
    apis: ranges(`
      0:0-11 1:0-17 2:0-9 3:0-12 8:0-9 9:0-9 10:0-6 11:0-9 12:0-4 13:0-5 14:0-5 15:0-5 16:0-5 17:0-1
      18:0-4 19:0-7 20:0-6 21:0-2 22:0-5 23:0-4 24:0-5 25:0-4 26:0-4 27:0-1 28:0-4 29:0-3 30:0-3 31:0-3
      32:0-4 33:0-2 34:0-2 35:0-4 36:0-2 37:0-3 38:0-3 39:0-2 40:0-2 41:0-3 42:0-2 43:0-2 44:0-1 45:0-0
      46:0-0 47:0-0 48:0-1 49:0-1 50:0-0 51:0-0 55:0-2 57:0-1 60:0-1 61:0-0 64:0-0 65:0-0 66:0-1 68:0-0
      69:0-0 74:0-0 75:0-0 80:0-0 81:0-0`),
    advertisedOnly: new Map(),
    supportedFeatures: [supported('kraft.version', 0, 1), supported('metadata.version', 1, 21)],
    finalizedFeatures: [finalized('metadata.version', 21)],
  },
};

/**
 * Features kts does not implement, left out of every answer: no share groups (KIP-932) and no
 * streams groups (KIP-1071). transaction.version 2 (KIP-890 part 2) is advertised as Kafka 4.x does:
 * clients then use Produce v12's implicit AddPartitionsToTxn and EndTxn v5's epoch bump.
 */
export const FEATURES_KTS_LACKS: readonly string[] = ['share.version', 'streams.version'];

export function parseAsKafka(value: string): AsKafka | undefined {
  return (AS_KAFKA_RELEASES as readonly string[]).includes(value) ? (value as AsKafka) : undefined;
}
