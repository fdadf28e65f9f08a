// API key -> handler. Built from the handler objects themselves, so dispatch and the ApiVersions
// answer cannot disagree; a second handler for the same key is a programming error.
//
// With `asKafka` (--as-kafka 3.9|4.0|4.4) the broker speaks as that Kafka release: each API is
// advertised and served at the release's range cut to the handler's, and an API the release does
// not have is neither advertised nor served. Without it, every handler's whole range is served:
// Kafka 4.4's versions plus the old ones Kafka 4 dropped (kafka-node speaks Produce and Fetch v0).
import type { ApiHandler } from './api-handler.js';
import { FEATURES_KTS_LACKS, KAFKA_RELEASES, type AsKafka, type FinalizedFeature, type KafkaRelease, type SupportedFeature } from './kafka-releases.js';

export interface ServedRange {
  minVersion: number;
  maxVersion: number;
}

/** Where kts serves less than the release advertises: an API it lacks, or a narrower range. */
export interface ReleaseGap {
  apiKey: number;
  release: readonly [number, number];
  /** null: kts has no handler for the API. */
  kts: readonly [number, number] | null;
}

export class HandlerRegistry {
  private readonly byKey = new Map<number, ApiHandler>();
  private readonly release: KafkaRelease | undefined;

  constructor(handlers: Iterable<ApiHandler>, asKafka?: AsKafka) {
    for (const handler of handlers) {
      if (this.byKey.has(handler.apiKey)) throw new Error(`Two handlers registered for API key ${handler.apiKey}`);
      if (handler.minVersion > handler.maxVersion) throw new Error(`API key ${handler.apiKey}: min version above max`);
      this.byKey.set(handler.apiKey, handler);
    }
    this.release = asKafka ? KAFKA_RELEASES[asKafka] : undefined;
  }

  /** The Kafka release this broker speaks as (--as-kafka), if any. */
  get asKafka(): AsKafka | undefined {
    return this.release?.release;
  }

  get(apiKey: number): ApiHandler | undefined {
    return this.byKey.get(apiKey);
  }

  /** The versions of an API that are answered; undefined when the API is not served at all. */
  served(apiKey: number): ServedRange | undefined {
    const range = this.advertisedRange(apiKey);
    if (!range) return undefined;
    const refused = this.release?.advertisedOnly.get(apiKey);
    const minVersion = refused && refused[0] <= range.minVersion ? Math.max(range.minVersion, refused[1] + 1) : range.minVersion;
    return minVersion <= range.maxVersion ? { minVersion, maxVersion: range.maxVersion } : undefined;
  }

  /** What ApiVersions advertises, ascending by key. */
  advertised(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.byKey.keys()]
      .sort((a, b) => a - b)
      .flatMap((apiKey) => {
        const range = this.advertisedRange(apiKey);
        return range ? [{ apiKey, ...range }] : [];
      });
  }

  /** ApiVersions v3+'s features: the release's (Kafka 4.4's by default) less those kts lacks. */
  features(): { supported: SupportedFeature[]; finalized: FinalizedFeature[] } {
    const release = this.release ?? KAFKA_RELEASES['4.4'];
    const implemented = (f: { name: string }) => !FEATURES_KTS_LACKS.includes(f.name);
    return { supported: release.supportedFeatures.filter(implemented), finalized: release.finalizedFeatures.filter(implemented) };
  }

  /** With --as-kafka: the release's APIs that kts serves narrower than the release, or not at all. */
  gaps(): ReleaseGap[] {
    if (!this.release) return [];
    const gaps: ReleaseGap[] = [];
    for (const [apiKey, release] of this.release.apis) {
      const handler = this.byKey.get(apiKey);
      const advertised = this.advertisedRange(apiKey);
      if (!handler || !advertised) gaps.push({ apiKey, release, kts: handler ? [handler.minVersion, handler.maxVersion] : null });
      else if (advertised.minVersion !== release[0] || advertised.maxVersion !== release[1]) gaps.push({ apiKey, release, kts: [handler.minVersion, handler.maxVersion] });
    }
    return gaps;
  }

  private advertisedRange(apiKey: number): ServedRange | undefined {
    const handler = this.byKey.get(apiKey);
    if (!handler) return undefined;
    if (!this.release) return { minVersion: handler.minVersion, maxVersion: handler.maxVersion };
    const release = this.release.apis.get(apiKey);
    if (!release) return undefined;
    const minVersion = Math.max(handler.minVersion, release[0]);
    const maxVersion = Math.min(handler.maxVersion, release[1]);
    return minVersion <= maxVersion ? { minVersion, maxVersion } : undefined;
  }
}
