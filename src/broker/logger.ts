// Kafka-style log lines: `[2026-11-24 13:05:01,234] INFO message (kts.component)`.
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
  child(component: string): Logger;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

function timestamp(d = new Date()): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`;
}

export function createLogger(opts: { level?: LogLevel; component?: string; write?: (line: string) => void } = {}): Logger {
  const level = rank[opts.level ?? 'info'];
  const component = opts.component ?? 'kts';
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const emit = (lvl: Exclude<LogLevel, 'silent'>, label: string) => (message: string) => {
    if (rank[lvl] >= level) write(`[${timestamp()}] ${label} ${message} (${component})`);
  };
  return {
    debug: emit('debug', 'DEBUG'),
    info: emit('info', 'INFO'),
    warn: emit('warn', 'WARN'),
    error: emit('error', 'ERROR'),
    child: (c: string) => createLogger({ ...opts, component: `${component}.${c}` }),
  };
}
