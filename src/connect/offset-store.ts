// Standalone mode's source offsets (offset.storage.file.filename): per connector, the last
// committed offset of each source partition, plus what makes re-sending safe after a crash: the
// idempotent producer's id, epoch and next sequence number per topic-partition, and the batch plan
// of the one unit of records sent but not yet confirmed. Written whole to a temporary file and
// renamed over the old one, so a kill at any moment leaves the old or the new state, never half.
// (Kafka's own file is Java-serialized; this one is JSON, `kts` reads only its own.)
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ProducerIdentity } from './idempotent-producer.js';

export interface PendingUnit {
  /** How many records poll() had given for this unit (before transforms dropped any). */
  total: number;
  /** The partition chosen for unkeyed records, per topic. */
  sticky: Record<string, number>;
  batches: { topic: string; partition: number; baseSequence: number; count: number }[];
}

export interface ConnectorState {
  /** [JSON of the source partition, the offset]. */
  offsets: [string, Record<string, unknown>][];
  producer?: ProducerIdentity & { sequences: Record<string, number> };
  pending?: PendingUnit;
}

export class FileOffsetStore {
  protected connectors: Record<string, ConnectorState> = {};

  constructor(private readonly path: string | null) {
    if (!path) return;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let parsed: { version?: number; connectors?: Record<string, ConnectorState> };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${path} is not a kts offsets file (Kafka's Java-serialized offsets are not read: use another offset.storage.file.filename)`);
    }
    this.connectors = parsed.connectors ?? {};
  }

  state(connector: string): ConnectorState {
    let s = this.connectors[connector];
    if (!s) {
      s = { offsets: [] };
      this.connectors[connector] = s;
    }
    return s;
  }

  offset(connector: string, partition: Record<string, unknown>): Record<string, unknown> | null {
    const key = stableJson(partition);
    return this.connectors[connector]?.offsets.find(([k]) => k === key)?.[1] ?? null;
  }

  setOffset(connector: string, partition: Record<string, unknown>, offset: Record<string, unknown>): void {
    const s = this.state(connector);
    const key = stableJson(partition);
    const at = s.offsets.findIndex(([k]) => k === key);
    if (at >= 0) s.offsets[at] = [key, offset];
    else s.offsets.push([key, offset]);
  }

  /** Every source partition's offset of a connector (GET /connectors/{name}/offsets). */
  offsets(connector: string): { partition: Record<string, unknown>; offset: Record<string, unknown> }[] {
    return (this.connectors[connector]?.offsets ?? []).map(([k, offset]) => ({ partition: JSON.parse(k), offset }));
  }

  forget(connector: string): void | Promise<void> {
    delete this.connectors[connector];
    return this.save(connector);
  }

  /** Replaces a connector's whole state (distributed mode: read back from the offsets topic). */
  load(connector: string, state: ConnectorState | null): void {
    if (state) this.connectors[connector] = state;
    else delete this.connectors[connector];
  }

  /** Writes the state (of `connector`; the file store writes them all). */
  save(_connector?: string): void | Promise<void> {
    if (!this.path) return;
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, connectors: this.connectors }));
    renameSync(tmp, this.path);
  }
}

/** JSON with object keys sorted, so that equal partitions give equal keys. */
export function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}
