// Where a transaction's time goes on the coordinator, for one DEBUG line of kts.broker.transaction
// when its Complete state is written: from the first partition asked for (AddPartitionsToTxn, or the
// Produce that adds it with transactions v2) to the Ongoing state written, the EndTxn request, the
// Prepare state written (when EndTxn is answered), the markers written and the Complete state.
// The steps are the dependent writes a transaction costs over an idempotent send, so this line is
// what to read first when transactional throughput is in question (bench/RESULTS.md). Nothing is
// recorded unless the logger is at DEBUG when a transaction's first partition is asked for.
import type { Logger } from '../logger.js';

type Point = 'ongoing' | 'end' | 'prepared' | 'markers';

interface Points {
  added: number;
  ongoing?: number;
  end?: number;
  prepared?: number;
  markers?: number;
}

export class TxnTimelines {
  private readonly open = new WeakMap<object, Points>();

  constructor(
    private readonly log: Logger,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** A partition is asked for: the start of the transaction's timeline unless one is open already. */
  added(txn: object): void {
    if (this.open.has(txn) || !this.log.isDebugEnabled()) return;
    this.open.set(txn, { added: this.clock() });
  }

  /** A later step; the first time counts (a retried EndTxn does not move it). */
  mark(txn: object, point: Point): void {
    const points = this.open.get(txn);
    if (points && points[point] === undefined) points[point] = this.clock();
  }

  /** The Complete state is written: one line for a transaction its client ended, and the timeline is closed. */
  completed(txn: object, describe: () => { transactionalId: string; producerId: number; producerEpoch: number; commit: boolean; partitions: number }): void {
    const points = this.open.get(txn);
    if (!points) return;
    this.open.delete(txn);
    if (points.end === undefined) return; // ended by the coordinator (a timeout or a fence), not by EndTxn
    const now = this.clock();
    const d = describe();
    const ms = (from: number | undefined, to: number | undefined) => (from === undefined || to === undefined ? '-' : `${(to - from).toFixed(2)} ms`);
    const prepare = d.commit ? 'PrepareCommit' : 'PrepareAbort';
    const complete = d.commit ? 'CompleteCommit' : 'CompleteAbort';
    this.log.debug(
      `Transaction of ${d.transactionalId} (producer id ${d.producerId}, epoch ${d.producerEpoch}) ${d.commit ? 'committed' : 'aborted'} over ${d.partitions} partition(s): ` +
        `Ongoing written ${ms(points.added, points.ongoing)} after its first partition was asked for; EndTxn ${ms(points.ongoing ?? points.added, points.end)} later; ` +
        `${prepare} written ${ms(points.end, points.prepared)} after it (EndTxn answered); markers ${ms(points.prepared, points.markers)} later; ` +
        `${complete} ${ms(points.markers, now)} after them; ${ms(points.added, now)} in all`,
    );
  }
}
