// Shared by the kit's client tests: polling and reading the recording.
import type { BrokerHandle, RecordedRequest } from '../../src/index.js';

/** Polls `check` every 25 ms until it returns a value other than undefined/false (throws after timeoutMs). */
export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Recorded requests of one API, optionally only those naming a topic or group (by a predicate on the request). */
export function recorded(broker: BrokerHandle, apiKey: number, filter: (request: any) => boolean = () => true): RecordedRequest[] {
  return broker.requests().filter((r) => r.apiKey === apiKey && filter(r.request));
}

/** Requests naming the topic, by name or (Fetch v13+) by its id. */
export const namesTopic = (topic: string, topicId?: string) => (request: any) => {
  const named = JSON.stringify(request.topicData ?? request.topics ?? []);
  return named.includes(`"${topic}"`) || (topicId !== undefined && named.includes(`"${topicId}"`));
};

export const namesGroup = (group: string) => (request: any) =>
  request.groupId === group || request.key === group || (request.coordinatorKeys ?? []).includes(group);
