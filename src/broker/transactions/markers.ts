// Writing one transaction marker (a control batch, control-batch.ts) into a partition this broker
// leads: through the storage's appendControlMarker when it has it (it then tracks the producer's
// open transaction, the last stable offset and the aborted-transaction index), else as a plain
// append of the control batch. Like Kafka's WriteTxnMarkers (acks=-1, request.timeout.ms) it waits
// for the ISR before the coordinator moves on; a marker the ISR did not confirm in time is
// REQUEST_TIMED_OUT and the coordinator writes it again. A partition led by another broker gets its marker through
// WriteTxnMarkers to that leader (RemoteMarkers, as Kafka's TransactionMarkerChannelManager).
import { BrokerConnection, type ClientSecurity } from '../../client/connection.js';
import { API } from '../../client/versions.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { buildControlBatch } from '../../protocol/records/control-batch.js';
import type { BrokerContext } from '../broker-context.js';
import type { MarkerWrite } from './coordinator.js';
import { OFFSETS_TOPIC } from '../groups/types.js';
import { clearVerificationGuard } from './verification.js';

interface MarkerCapableLog {
  append(records: Buffer, opts?: { leaderEpoch?: number; now?: number }): Promise<{ lastOffset: number }>;
  appendControlMarker?(m: { producerId: number; producerEpoch: number; coordinatorEpoch: number; commit: boolean; leaderEpoch?: number; now?: number; transactionVersion?: number }): Promise<{ lastOffset: number }>;
}

export type MarkerBroker = Pick<BrokerContext, 'nodeId' | 'logs' | 'topics' | 'replication' | 'now' | 'groups' | 'config'>;

/**
 * A marker for a partition this broker leads (the coordinator's own, or one WriteTxnMarkers
 * brought). One into __consumer_offsets also ends the transaction's offsets there (TxnOffsetCommit):
 * the group coordinator writes it in order with its own records.
 */
export function writeMarkerHere(broker: MarkerBroker, m: MarkerWrite): Promise<void> {
  if (m.topic === OFFSETS_TOPIC) return broker.groups.writeTxnMarker(m.partition, m.producerId, m.commit, () => writeLocalMarker(broker, m));
  return writeLocalMarker(broker, m);
}

export async function writeLocalMarker(broker: MarkerBroker, m: MarkerWrite): Promise<void> {
  const state = broker.topics.partitionState(m.topic, m.partition);
  if (!state) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${m.topic}-${m.partition} does not exist`);
  if (state.leader !== broker.nodeId) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `${m.topic}-${m.partition} is led by broker ${state.leader}`);
  const log = broker.logs.get(m.topic, m.partition) as MarkerCapableLog | undefined;
  if (!log) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `${m.topic}-${m.partition} has no log here yet`);
  const now = broker.now();
  const marker = { producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch: m.coordinatorEpoch, commit: m.commit, leaderEpoch: state.leaderEpoch, now, transactionVersion: m.transactionVersion ?? 0 };
  // A first batch of this producer being verified belongs to the transaction this marker ends.
  clearVerificationGuard(log, m.producerId);
  const result = log.appendControlMarker
    ? await log.appendControlMarker(marker)
    : await log.append(buildControlBatch(m.commit ? 'COMMIT' : 'ABORT', { ...marker, timestamp: now }), { leaderEpoch: state.leaderEpoch, now });
  const replication = broker.replication as { waitForReplication?(t: string, p: number, next: number, timeoutMs: number, leaderEpoch?: number): Promise<number> } | undefined;
  if (replication?.waitForReplication) {
    // Kafka's KafkaApis appends markers with timeout = request.timeout.ms.
    const code = await replication.waitForReplication(m.topic, m.partition, result.lastOffset + 1, broker.config.getNumber('request.timeout.ms'), state.leaderEpoch);
    if (code) throw new KafkaError(code, `the marker in ${m.topic}-${m.partition} was not replicated`);
  }
}

interface QueuedMarker {
  m: MarkerWrite;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Markers for partitions other brokers lead: WriteTxnMarkers to the leader, over a connection kept
 * per broker. As Kafka's TransactionMarkerChannelManager, the markers queued for one broker go in
 * one request (those of a turn of the event loop: every partition a transaction end has there, and
 * the ends of other transactions meanwhile), one entry per producer. Any failure rejects the
 * markers it concerns (the coordinator retries each with backoff); a broken connection is dropped
 * and opened again on the next try.
 */
export class RemoteMarkers {
  private readonly conns = new Map<number, Promise<BrokerConnection>>();
  private readonly queued = new Map<number, QueuedMarker[]>();
  private closed = false;

  constructor(
    private readonly broker: MarkerBroker,
    /** The inter-broker listener's TLS/SASL settings (security/inter-broker.ts). */
    private readonly security: () => ClientSecurity | undefined = () => undefined,
  ) {}

  write(m: MarkerWrite, leader: number): Promise<void> {
    if (this.closed) return Promise.reject(new KafkaError(ErrorCode.NOT_COORDINATOR, 'the broker is shutting down'));
    return new Promise((resolve, reject) => {
      let waiting = this.queued.get(leader);
      if (!waiting) {
        this.queued.set(leader, (waiting = []));
        setImmediate(() => void this.flush(leader));
      }
      waiting.push({ m, resolve, reject });
    });
  }

  private async flush(leader: number): Promise<void> {
    const waiting = this.queued.get(leader) ?? [];
    this.queued.delete(leader);
    if (this.closed) return waiting.forEach((w) => w.reject(new KafkaError(ErrorCode.NOT_COORDINATOR, 'the broker is shutting down')));
    // One entry per producer id: its answer is keyed by producer id. A second marker set of the same
    // producer (another epoch or outcome) goes in the next request.
    const entries = new Map<number, QueuedMarker[]>();
    for (const w of waiting) {
      const same = entries.get(w.m.producerId);
      const first = same?.[0].m;
      if (!same) entries.set(w.m.producerId, [w]);
      else if (first!.producerEpoch === w.m.producerEpoch && first!.commit === w.m.commit && first!.coordinatorEpoch === w.m.coordinatorEpoch && (first!.transactionVersion ?? 0) === (w.m.transactionVersion ?? 0)) same.push(w);
      else void this.write(w.m, leader).then(w.resolve, w.reject);
    }
    const markers = [...entries.values()].map((ws) => {
      const m = ws[0].m;
      const topics = new Map<string, number[]>();
      for (const { m: x } of ws) {
        let ps = topics.get(x.topic);
        if (!ps) topics.set(x.topic, (ps = []));
        ps.push(x.partition);
      }
      return { producerId: m.producerId, producerEpoch: m.producerEpoch, transactionResult: m.commit, coordinatorEpoch: m.coordinatorEpoch, transactionVersion: m.transactionVersion ?? 0, topics: [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes })) };
    });
    const sent = [...entries.values()].flat();
    let body;
    let conn: BrokerConnection | undefined;
    try {
      conn = await this.connection(leader);
      body = await conn.request(API.WriteTxnMarkers, { markers });
    } catch (err) {
      if (conn) this.drop(leader, conn);
      const failure = err instanceof KafkaError && !conn ? err : new KafkaError(ErrorCode.NETWORK_EXCEPTION, `WriteTxnMarkers to broker ${leader} failed: ${(err as Error).message}`);
      return sent.forEach((w) => w.reject(failure));
    }
    const codes = new Map<string, number>();
    for (const entry of body.markers ?? []) {
      for (const t of entry.topics ?? []) for (const p of t.partitions ?? []) codes.set(`${entry.producerId}\0${t.name}\0${p.partitionIndex}`, p.errorCode);
    }
    for (const w of sent) {
      const code = codes.get(`${w.m.producerId}\0${w.m.topic}\0${w.m.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
      if (code) w.reject(new KafkaError(code, `broker ${leader} refused the marker for ${w.m.topic}-${w.m.partition}`));
      else w.resolve();
    }
  }

  private connection(nodeId: number): Promise<BrokerConnection> {
    let p = this.conns.get(nodeId);
    if (!p) {
      const endpoint = this.broker.topics.liveBrokers().find((b) => b.nodeId === nodeId);
      if (!endpoint) return Promise.reject(new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `broker ${nodeId} is not alive`));
      // As Kafka's TransactionMarkerChannelManager: request.timeout.ms per request and
      // socket.connection.setup.timeout.ms to connect.
      const config = this.broker.config;
      p = BrokerConnection.open(endpoint.host, endpoint.port, {
        clientId: `broker-${this.broker.nodeId}-txn-marker-sender`,
        connectTimeoutMs: config.getNumber('socket.connection.setup.timeout.ms'),
        requestTimeoutMs: config.getNumber('request.timeout.ms'),
        security: this.security(),
      });
      this.conns.set(nodeId, p);
      p.then(
        (c) => c.onClose(() => this.conns.get(nodeId) === p && this.conns.delete(nodeId)),
        () => this.conns.get(nodeId) === p && this.conns.delete(nodeId),
      );
    }
    return p;
  }

  private drop(nodeId: number, conn: BrokerConnection): void {
    conn.close();
    this.conns.delete(nodeId);
  }

  close(): void {
    this.closed = true;
    for (const p of this.conns.values()) p.then((c) => c.close(), () => {});
    this.conns.clear();
  }
}
