// Lines in the layout of Kafka's tools-log4j.properties (`[%d] %p %m (%c)%n`, on stderr), for the
// few log lines scripts see from the tools (send errors, consumer timeouts).

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

export function log4jTimestamp(d = new Date()): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`;
}

export function log4jLine(level: 'ERROR' | 'WARN' | 'INFO', message: string, logger: string): string {
  return `[${log4jTimestamp()}] ${level} ${message} (${logger})\n`;
}
