// Fault injection for tests (`broker.faults`): rules that intercept requests by API key, topic or
// group and answer them with an error, delay them, drop the connection, or hold them until the test
// releases them (so an interleaving can be forced). franz-go's kfake Control and librdkafka's mock
// error stacks are the models: rules are tried in the order they were added and the first match
// acts; a rule with `times` acts that many times and then removes itself, one without stays until
// remove(). The dispatcher asks only while a rule exists (`active`), so a broker without rules pays
// one property read per request.
import { ApiKey, apiName } from '../protocol/index.js';
import { errorResponse } from '../protocol/error-response.js';

/** Which requests a rule intercepts; every field given must match. */
export interface FaultMatch {
  /** The API (ApiKey.Produce, 0, ...); any API when absent. */
  apiKey?: number;
  /** A topic the request names (by name, or by id where the request carries ids). */
  topic?: string;
  /** A group the request names (groupId, a FindCoordinator group key, a DescribeGroups entry). */
  group?: string;
}

export interface FaultSpec extends FaultMatch {
  /** Answer with this error code: a well-formed response of the request's API and version. */
  errorCode?: number;
  /** How many matching requests the rule acts on before it removes itself (default: until remove()). */
  times?: number;
  /** Wait this long before answering (or before passing the request on when nothing else is set). */
  delayMs?: number;
  /** Close the connection instead of answering. */
  dropConnection?: boolean;
}

export interface FaultRule {
  readonly spec: Readonly<FaultSpec>;
  /** Requests the rule has acted on. */
  readonly matched: number;
  /** Stops the rule (requests it holds are released). */
  remove(): void;
}

export interface PauseRule extends FaultRule {
  /** Requests held now. */
  readonly held: number;
  /** Resolves once `count` requests are held at once (rejects after timeoutMs, default 30 s). */
  waitForHeld(count?: number, timeoutMs?: number): Promise<void>;
  /** Lets the held requests go on (to the rule's error, delay or drop, else to their handler). The rule stays. */
  release(): void;
}

/** What the dispatcher does with an intercepted request. */
export type FaultOutcome = { kind: 'answer'; response: Record<string, unknown> } | { kind: 'drop' } | { kind: 'pass' };

const SPEC_KEYS = new Set(['apiKey', 'topic', 'group', 'errorCode', 'times', 'delayMs', 'dropConnection']);

function checkSpec(spec: FaultSpec): void {
  if (typeof spec !== 'object' || spec === null) throw new TypeError('a fault rule is an object');
  for (const key of Object.keys(spec)) if (!SPEC_KEYS.has(key)) throw new TypeError(`unknown fault rule field '${key}' (known: ${[...SPEC_KEYS].join(', ')})`);
  const int = (name: keyof FaultSpec, min: number, max: number) => {
    const v = spec[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) {
      throw new RangeError(`fault rule ${name} must be an integer from ${min} to ${max}, not ${String(v)}`);
    }
  };
  int('apiKey', 0, 0x7fff);
  int('errorCode', -1, 0x7fff);
  int('times', 1, Number.MAX_SAFE_INTEGER);
  int('delayMs', 0, 2 ** 31 - 1);
  if (spec.apiKey !== undefined && apiName(spec.apiKey) === undefined) throw new RangeError(`fault rule apiKey ${spec.apiKey} is no Kafka API`);
  if (spec.errorCode !== undefined && spec.dropConnection) throw new TypeError('a fault rule either answers with errorCode or drops the connection, not both');
  for (const name of ['topic', 'group'] as const) {
    if (spec[name] !== undefined && typeof spec[name] !== 'string') throw new TypeError(`fault rule ${name} must be a string`);
  }
}

/** The topics a decoded request names (names, or ids turned into names by `nameOfId`). */
function topicsOf(request: unknown, nameOfId: (id: string) => string | undefined): string[] {
  const out: string[] = [];
  const visit = (value: unknown, depth: number) => {
    if (typeof value !== 'object' || value === null || depth > 3) return;
    for (const [key, child] of Object.entries(value)) {
      if (!Array.isArray(child) || (key !== 'topics' && key !== 'topicData' && key !== 'groups')) continue;
      for (const entry of child) {
        if (typeof entry !== 'object' || entry === null) continue;
        const e = entry as { name?: unknown; topic?: unknown; topicId?: unknown };
        // (A field the request's version lacks decodes as its default: '' names nothing.)
        const name = typeof e.name === 'string' && e.name !== '' ? e.name : typeof e.topic === 'string' && e.topic !== '' ? e.topic : undefined;
        if (name) out.push(name);
        else if (typeof e.topicId === 'string') {
          const byId = nameOfId(e.topicId);
          if (byId) out.push(byId);
        }
        visit(entry, depth + 1);
      }
    }
  };
  visit(request, 0);
  return out;
}

/** The groups a decoded request names. */
function groupsOf(apiKey: number, request: unknown): string[] {
  if (typeof request !== 'object' || request === null) return [];
  const r = request as { groupId?: unknown; key?: unknown; keyType?: unknown; coordinatorKeys?: unknown; groups?: unknown };
  const out: string[] = [];
  if (typeof r.groupId === 'string') out.push(r.groupId);
  if (apiKey === ApiKey.FindCoordinator && (r.keyType ?? 0) === 0) {
    if (typeof r.key === 'string' && r.key !== '') out.push(r.key);
    if (Array.isArray(r.coordinatorKeys)) for (const k of r.coordinatorKeys) if (typeof k === 'string') out.push(k);
  }
  if (Array.isArray(r.groups)) {
    for (const g of r.groups) {
      if (typeof g === 'string') out.push(g);
      else if (typeof g === 'object' && g !== null && typeof (g as { groupId?: unknown }).groupId === 'string') out.push((g as { groupId: string }).groupId);
    }
  }
  return out;
}

class Rule implements PauseRule {
  matched = 0;
  private remaining: number;
  private readonly releases: Array<() => void> = [];
  private readonly heldWaiters: Array<{ count: number; resolve: () => void }> = [];
  removed = false;

  constructor(
    readonly spec: Readonly<FaultSpec>,
    readonly holds: boolean,
    private readonly owner: Faults,
  ) {
    this.remaining = spec.times ?? Infinity;
  }

  get held(): number {
    return this.releases.length;
  }

  matches(apiKey: number, request: unknown, nameOfId: (id: string) => string | undefined): boolean {
    const { spec } = this;
    if (spec.apiKey !== undefined && spec.apiKey !== apiKey) return false;
    if (spec.topic !== undefined && !topicsOf(request, nameOfId).includes(spec.topic)) return false;
    if (spec.group !== undefined && !groupsOf(apiKey, request).includes(spec.group)) return false;
    return true;
  }

  /** Counts one use; the last one removes the rule. */
  take(): void {
    this.matched++;
    if (--this.remaining <= 0) this.owner.drop(this, false);
  }

  hold(): Promise<void> {
    return new Promise((resolve) => {
      this.releases.push(resolve);
      for (const w of this.heldWaiters.splice(0)) {
        if (this.releases.length >= w.count) w.resolve();
        else this.heldWaiters.push(w);
      }
    });
  }

  waitForHeld(count = 1, timeoutMs = 30_000): Promise<void> {
    if (this.releases.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.heldWaiters.indexOf(waiter);
        if (i >= 0) this.heldWaiters.splice(i, 1);
        reject(new Error(`fault rule ${JSON.stringify(this.spec)}: ${this.releases.length} of ${count} requests held after ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.heldWaiters.push(waiter);
    });
  }

  release(): void {
    for (const resolve of this.releases.splice(0)) resolve();
  }

  remove(): void {
    this.owner.drop(this, true);
  }
}

/** `broker.faults`: the rules of one broker. */
export class Faults {
  private rules: Rule[] = [];
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private closed = false;
  private networkDelayMs = 0;

  /** True while any rule or a network delay exists (the dispatcher's only question when there is none). */
  get active(): boolean {
    return this.rules.length > 0 || this.networkDelayMs > 0;
  }

  /**
   * A slow network in front of this broker: from now on every request it receives (clients' and
   * other brokers', of any API) waits `ms` before it is looked at, on top of what a rule adds.
   * `delay(0)` ends it. Requests already waiting keep their delay.
   */
  delay(ms: number): void {
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > 2 ** 31 - 1) {
      throw new RangeError(`a network delay must be an integer number of milliseconds from 0 to ${2 ** 31 - 1}, not ${String(ms)}`);
    }
    if (this.closed) throw new Error('the broker is closed');
    this.networkDelayMs = ms;
  }

  /** The network delay now in force (0: none). */
  get delayMs(): number {
    return this.networkDelayMs;
  }

  /** Adds a rule (tried after the ones already there). */
  inject(spec: FaultSpec): FaultRule {
    return this.add(spec, false);
  }

  /**
   * Adds a rule that holds each matching request until release() (or remove()), then applies the
   * rest of the spec: its error, delay or drop, or the handler when none is set.
   */
  pause(spec: FaultSpec = {}): PauseRule {
    return this.add(spec, true);
  }

  /** Removes every rule, releasing what they hold. */
  clear(): void {
    for (const rule of [...this.rules]) this.drop(rule, true);
  }

  private add(spec: FaultSpec, holds: boolean): Rule {
    checkSpec(spec);
    if (this.closed) throw new Error('the broker is closed');
    const rule = new Rule(Object.freeze({ ...spec }), holds, this);
    this.rules = [...this.rules, rule];
    return rule;
  }

  /** @internal */
  drop(rule: Rule, release: boolean): void {
    if (!rule.removed) {
      rule.removed = true;
      this.rules = this.rules.filter((r) => r !== rule);
    }
    if (release) rule.release();
  }

  /**
   * The first matching rule's outcome for a request (`pass` when none matches). Waits for its
   * hold and delay; a broker closing meanwhile drops the request.
   */
  async intercept(apiKey: number, apiVersion: number, request: unknown, nameOfId: (id: string) => string | undefined): Promise<FaultOutcome> {
    if (this.networkDelayMs > 0) {
      await this.sleep(this.networkDelayMs);
      if (this.closed) return { kind: 'drop' };
    }
    const rule = this.rules.find((r) => r.matches(apiKey, request, nameOfId));
    if (!rule) return { kind: 'pass' };
    rule.take();
    const { spec } = rule;
    if (rule.holds) await rule.hold();
    if (spec.delayMs) await this.sleep(spec.delayMs);
    if (this.closed || spec.dropConnection) return { kind: 'drop' };
    // Produce with acks=0 has no answer: Kafka closes the connection when such a request fails.
    if (spec.errorCode !== undefined && apiKey === ApiKey.Produce && (request as { acks?: number }).acks === 0) return { kind: 'drop' };
    if (spec.errorCode !== undefined) return { kind: 'answer', response: errorResponse(apiKey, apiVersion, request, spec.errorCode) };
    return { kind: 'pass' };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
      };
      this.timers.add(entry);
    });
  }

  /** At the broker's close: held and delayed requests end (their connections are closing). */
  close(): void {
    this.closed = true;
    this.networkDelayMs = 0;
    this.clear();
    for (const entry of this.timers) {
      clearTimeout(entry.timer);
      entry.resolve();
    }
    this.timers.clear();
  }
}
