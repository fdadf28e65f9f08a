// The order in which one connection's Produce requests append to a partition.
//
// Why: a connection's Produce requests overlap (network/connection.ts), and a compressed batch is
// checked off the event loop before it is appended (produce-records.ts, two at a time), so a small
// batch can be ready before a large one sent ahead of it. Kafka appends a connection's requests in
// the order they came (it reads the next request only once the last one is answered), and clients
// rely on it: a non-idempotent producer with several requests in flight (librdkafka's default) must
// find its records in the order it sent them, and an idempotent one's batches must reach the log in
// sequence order (an overtaken batch arrives ahead of its sequence). So each Produce takes its turn for the partition when it starts (requests
// start in order), and appends only once the Produce before it on the same connection has appended
// or given up. Other connections do not wait: Kafka orders nothing between them either.

/** One Produce's place in a partition's queue on one connection. */
export interface AppendTurn {
  /** Resolves once every earlier Produce of this connection to this partition has appended or given up. */
  readonly ready: Promise<void>;
  /** Called once this Produce has appended (joined the log's queue) or given up; the next one may go. */
  done(): void;
}

const turnsByConnection = new WeakMap<object, Map<object, Promise<void>>>();

/**
 * Takes the next turn on `partition` (any object naming it, the partition's log) for `connection`.
 * Call it synchronously where the request starts, and call done() on every path.
 */
export function takeAppendTurn(connection: object, partition: object): AppendTurn {
  let turns = turnsByConnection.get(connection);
  if (!turns) turnsByConnection.set(connection, (turns = new Map()));
  const before = turns.get(partition);
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  turns.set(partition, mine);
  let finished = false;
  return {
    ready: before ?? Promise.resolve(),
    done() {
      if (finished) return;
      finished = true;
      done();
      // The last turn taken is done: nothing waits on it, so forget the partition.
      if (turns.get(partition) === mine) turns.delete(partition);
    },
  };
}
