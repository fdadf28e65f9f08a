// Kafka-style log lines: `[2026-11-24 13:05:01,234] INFO message (kts.component)`.
//
// Levels work as log4j's do (what Kafka's broker-logger configs change at run time): every logger
// made by createLogger()/child() is registered by name in a LoggerLevels shared with its parent;
// a logger without a level of its own logs at the level of its nearest registered ancestor that
// has one, else at the root logger's (`root`). The level is looked up at every call, so
// LoggerLevels.set()/unset() change what the running broker prints.
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
  /** Whether a debug() call would print: build costly debug messages only when it does. */
  isDebugEnabled(): boolean;
  child(component: string): Logger;
  /** This logger's name (`kts.broker.log`). */
  readonly name: string;
  /** The levels of this logger, its ancestors and children. */
  readonly levels: LoggerLevels;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const rank: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, fatal: 5, silent: 6 };

/** The root logger's name, as in Kafka's Log4jController. */
export const ROOT_LOGGER = 'root';
/** The level names a broker-logger config accepts (Kafka's LogLevelConfig.VALID_LOG_LEVELS). */
export const LOG_LEVEL_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;

/** `INFO` for 'info'; log4j's `OFF` for 'silent'. */
export function levelName(level: LogLevel): string {
  return level === 'silent' ? 'OFF' : level.toUpperCase();
}

/** The level named `name` (one of LOG_LEVEL_NAMES, upper case), or undefined. */
export function parseLevelName(name: string): LogLevel | undefined {
  return (LOG_LEVEL_NAMES as readonly string[]).includes(name) ? (name.toLowerCase() as LogLevel) : undefined;
}

export class LoggerLevels {
  /** Every registered logger's own level; null: inherited. */
  private readonly own = new Map<string, LogLevel | null>();
  /** effective() answers, dropped whenever a level changes. */
  private readonly resolved = new Map<string, LogLevel>();

  constructor(private root: LogLevel = 'info') {}

  register(name: string): void {
    if (name !== ROOT_LOGGER && !this.own.has(name)) this.own.set(name, null);
  }

  exists(name: string): boolean {
    return name === ROOT_LOGGER || this.own.has(name);
  }

  /** The level `name` logs at: its own, else its nearest registered ancestor's, else root's. */
  effective(name: string): LogLevel {
    if (name === ROOT_LOGGER) return this.root;
    // Asked on every request (the request logger's debug check): resolved once per change of levels.
    let level = this.resolved.get(name);
    if (level === undefined) {
      level = this.resolve(name);
      this.resolved.set(name, level);
    }
    return level;
  }

  private resolve(name: string): LogLevel {
    for (let n = name; ; ) {
      const level = this.own.get(n);
      if (level) return level;
      const dot = n.lastIndexOf('.');
      if (dot <= 0) return this.root;
      n = n.slice(0, dot);
    }
  }

  /** Gives a registered logger (or root) its own level; false if there is no such logger. */
  set(name: string, level: LogLevel): boolean {
    if (name === ROOT_LOGGER) this.root = level;
    else if (this.own.has(name)) this.own.set(name, level);
    else return false;
    this.resolved.clear();
    return true;
  }

  /** Makes a registered logger inherit its level again; false if there is no such logger (or root). */
  unset(name: string): boolean {
    if (name === ROOT_LOGGER || !this.own.has(name)) return false;
    this.own.set(name, null);
    this.resolved.clear();
    return true;
  }

  /** Root first, then every registered logger by name, each with the level it logs at. */
  list(): { name: string; level: LogLevel }[] {
    const names = [...this.own.keys()].sort();
    return [{ name: ROOT_LOGGER, level: this.root }, ...names.map((name) => ({ name, level: this.effective(name) }))];
  }
}

function timestamp(d = new Date()): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`;
}

export interface LoggerOptions {
  /** The root logger's level when a new LoggerLevels is made (default info). */
  level?: LogLevel;
  component?: string;
  write?: (line: string) => void;
  /** Shared with the parent for child loggers; a new one (root at `level`) otherwise. */
  levels?: LoggerLevels;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const levels = opts.levels ?? new LoggerLevels(opts.level ?? 'info');
  const component = opts.component ?? 'kts';
  levels.register(component);
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const enabled = (lvl: LogLevel) => rank[lvl] >= rank[levels.effective(component)];
  const emit = (lvl: Exclude<LogLevel, 'silent'>) => {
    const label = levelName(lvl);
    return (message: string) => {
      if (enabled(lvl)) write(`[${timestamp()}] ${label} ${message} (${component})`);
    };
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    isDebugEnabled: () => enabled('debug'),
    child: (c: string) => createLogger({ ...opts, levels, component: `${component}.${c}` }),
    name: component,
    levels,
  };
}
