// The input of the windows tests and what Kafka Streams 4.4 wrote for it, for the windows the test
// does not model itself: recorded from fixtures/Windows.java on a real Kafka 4.4 (windows.test.ts
// checks the Java app still writes exactly this, and the TypeScript app the same), so that
// test/unit/streams/session-sliding.test.ts can hold the library to it without a broker.

/** [key, seconds after T0]: in order of arrival. T0 is a multiple of 10 s. */
export const EVENTS: [string, number][] = [
  ['a', 1], ['b', 2], ['a', 4], ['a', 9], ['b', 11], ['a', 12],
  ['c', 3], // late (stream time 12), inside the grace: counted
  ['a', 16],
  ['b', 5], // stream time 16: window [0, 10) closed at 15, dropped; hopping [5, 15) still open
  ['a', 21], ['c', 14], ['a', 30],
  ['b', 26], // within the grace of [20, 30)
  ['a', 45],
  ['b', 8], // far too late
  ['a', 60], // moves stream time on so that the earlier windows close and are emitted
];

/** [key, window start - T0, window end - T0, count (null: a merged session's tombstone)], in output order. */
type Update = [string, number, number, number | null];

/** Session windows, inactivity gap 5 s, grace 5 s: every update. */
export const SESSION_UPDATES: Update[] = [
  ['a', 1000, 1000, 1], ['b', 2000, 2000, 1], ['a', 1000, 1000, null], ['a', 1000, 4000, 2], ['a', 1000, 4000, null],
  ['a', 1000, 9000, 3], ['b', 11000, 11000, 1], ['a', 1000, 9000, null], ['a', 1000, 12000, 4], ['c', 3000, 3000, 1],
  ['a', 1000, 12000, null], ['a', 1000, 16000, 5], ['a', 1000, 16000, null], ['a', 1000, 21000, 6], ['c', 14000, 14000, 1],
  ['a', 30000, 30000, 1], ['b', 26000, 26000, 1], ['a', 45000, 45000, 1], ['a', 60000, 60000, 1],
];

/** Sliding windows, time difference 5 s, grace 5 s: every update. */
export const SLIDING_UPDATES: Update[] = [
  ['a', -4000, 1000, 1], ['b', -3000, 2000, 1], ['a', 1001, 6001, 1], ['a', -1000, 4000, 2], ['a', 4001, 9001, 1],
  ['a', 4000, 9000, 2], ['b', 6000, 11000, 1], ['a', 9001, 14001, 1], ['a', 7000, 12000, 2], ['a', 12001, 17001, 1],
  ['a', 11000, 16000, 2], ['a', 16001, 21001, 1], ['a', 16000, 21000, 2], ['a', 25000, 30000, 1], ['b', 21000, 26000, 1],
  ['a', 40000, 45000, 1], ['a', 55000, 60000, 1],
];

/** The updates as the apps write them: key `<key>@<start>-<end>`, the count as a Long (null: tombstone). */
export const asWritten = (t0: number, updates: Update[]): [string, number | null][] => updates.map(([k, s, e, v]) => [`${k}@${t0 + s}-${t0 + e}`, v]);
