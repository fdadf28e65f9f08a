// API key -> handler. Built from the handler objects themselves, so dispatch and the ApiVersions
// answer cannot disagree; a second handler for the same key is a programming error.
import type { ApiHandler } from './api-handler.js';

export class HandlerRegistry {
  private readonly byKey = new Map<number, ApiHandler>();

  constructor(handlers: Iterable<ApiHandler>) {
    for (const handler of handlers) {
      if (this.byKey.has(handler.apiKey)) throw new Error(`Two handlers registered for API key ${handler.apiKey}`);
      if (handler.minVersion > handler.maxVersion) throw new Error(`API key ${handler.apiKey}: min version above max`);
      this.byKey.set(handler.apiKey, handler);
    }
  }

  get(apiKey: number): ApiHandler | undefined {
    return this.byKey.get(apiKey);
  }

  /** What ApiVersions advertises, ascending by key. */
  advertised(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.byKey.values()]
      .sort((a, b) => a.apiKey - b.apiKey)
      .map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion }));
  }
}
