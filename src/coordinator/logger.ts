// The coordinator logs through this small interface; the broker's Kafka-style logger fits it.
export interface CoordinatorLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export const silentLogger: CoordinatorLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** ZooKeeper-style lines on stderr/stdout: `2026-11-24 13:05:01,234 [myid:] - INFO  message`. */
export function consoleLogger(level: 'debug' | 'info' | 'warn' | 'error' = 'info'): CoordinatorLogger {
  const rank = { debug: 0, info: 1, warn: 2, error: 3 };
  const line = (lvl: keyof typeof rank, msg: string) => {
    if (rank[lvl] < rank[level]) return;
    const d = new Date();
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    const ts = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
    process.stdout.write(`${ts} [myid:] - ${lvl.toUpperCase().padEnd(5)} ${msg}\n`);
  };
  return {
    debug: (m) => line('debug', m),
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m) => line('error', m),
  };
}
