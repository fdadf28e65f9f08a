// `broker.requests()`: the requests a broker served, decoded, with their answers — so a test can
// assert what a client sent and what it was told. Bounded: the newest `limit` entries are kept
// (a ring), so a long test cannot grow the broker without bound. The request objects hold the
// frames' bytes (Produce records are views of them), which the bound also bounds.
import { apiName, errorName } from '../protocol/index.js';
import { responseErrorCode } from '../protocol/error-response.js';

export interface RecordedRequest {
  apiKey: number;
  apiVersion: number;
  clientId: string | null;
  /** The response's top-level error code when not 0, else its first partition's (0: none; also for a dropped connection). */
  errorCode: number;
  /** As decoded (schema field names, camelCased). */
  request: unknown;
  /** As answered; null when nothing was sent (Produce acks=0, a dropped connection). */
  response: unknown;
  /** Date.now() when the request was decoded. */
  startedAt: number;
  durationMs: number;
  correlationId: number;
  /** The broker's id for the connection (per broker, from 0). */
  connectionId: number;
  /** Who sent it, as Kafka prints a principal: `User:ANONYMOUS`, `User:alice`, `User:CN=client,O=kts`. */
  principal: string;
  /** What a fault rule did to it, if one matched: 'error' (answered errorCode), 'drop', or 'pass' (delayed or held, then handled). */
  fault?: 'error' | 'drop' | 'pass';
}

export const DEFAULT_RECORDING_LIMIT = 1000;

export class RequestRecording {
  private readonly entries: RecordedRequest[] = [];
  /** Where the next entry goes once the ring is full. */
  private next = 0;

  constructor(readonly limit: number) {}

  add(entry: Omit<RecordedRequest, 'errorCode'>): void {
    const full: RecordedRequest = { ...entry, errorCode: responseErrorCode(entry.response) };
    if (this.entries.length < this.limit) {
      this.entries.push(full);
      return;
    }
    this.entries[this.next] = full;
    this.next = (this.next + 1) % this.limit;
  }

  /** Oldest first. */
  list(): RecordedRequest[] {
    return [...this.entries.slice(this.next), ...this.entries.slice(0, this.next)];
  }

  clear(): void {
    this.entries.length = 0;
    this.next = 0;
  }
}

/** One line per request, a readable wire trace: `+12ms Produce v9 client=kjs corr=4 -> NONE (3 ms)`. */
export function formatRecording(entries: readonly RecordedRequest[]): string {
  const t0 = entries[0]?.startedAt ?? 0;
  return entries
    .map(
      (e) =>
        `+${e.startedAt - t0}ms ${apiName(e.apiKey) ?? `api${e.apiKey}`} v${e.apiVersion} client=${e.clientId ?? ''} conn=${e.connectionId} corr=${e.correlationId}` +
        ` -> ${e.fault === 'drop' ? 'connection dropped' : errorName(e.errorCode)}${e.fault ? ` [fault: ${e.fault}]` : ''} (${e.durationMs} ms)`,
    )
    .join('\n');
}
