// Runs the real binary on a pseudo-terminal of a given width, as a person at a terminal would: util-linux's
// `script` allocates the terminal, `stty cols N` sets its width, and kts sees a TTY on stdout and
// stderr (both arrive here merged, with the terminal's \r\n line ends).
import { KTS_BIN } from './broker.js';
import { spawnTracked, stopProcess } from './processes.js';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface PtyRun {
  /** Everything the terminal showed so far (escape sequences included). */
  output(): string;
  /** The pid of kts itself (not of `script`), once it has started. */
  pid(): Promise<number>;
  waitFor(pred: (text: string) => boolean, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; output: string }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; output: string }>;
}

export function ptyKts(args: string[], cols: number, env: NodeJS.ProcessEnv = {}): PtyRun {
  const command = `stty cols ${cols} rows 60 && echo "KTS_PID=$$" && exec ${quote(process.execPath)} ${quote(KTS_BIN)} ${args.map(quote).join(' ')}`;
  const base = { ...process.env };
  for (const k of ['FORCE_COLOR', 'NO_COLOR', 'COLUMNS', 'LINES', 'CI']) delete base[k];
  const child = spawnTracked('script', ['-qfec', command, '/dev/null'], {
    env: { ...base, KTS_BOOTSTRAP_SERVER: '', TERM: 'xterm-256color', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, output: text })),
  );
  const waitFor = async (pred: (t: string) => boolean, timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!pred(text)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting on the terminal; it shows:\n${text}`);
      if (child.exitCode !== null) throw new Error(`script exited ${child.exitCode}; the terminal shows:\n${text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    output: () => text,
    async pid() {
      await waitFor((t) => /KTS_PID=\d+/.test(t));
      return Number(/KTS_PID=(\d+)/.exec(text)![1]);
    },
    waitFor,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGINT') {
      const pid = await this.pid();
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
      const timer = setTimeout(() => void stopProcess(child, 'SIGKILL'), 20_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Runs kts on a terminal `cols` wide until it exits. */
export async function ptyKtsRun(args: string[], cols: number, env?: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const run = ptyKts(args, cols, env);
  const timer = setTimeout(() => void run.stop('SIGKILL'), 60_000);
  const result = await run.exited;
  clearTimeout(timer);
  return result;
}

const CSI = /^\x1b\[([0-9;?]*)([A-Za-z])/;
const OSC = /^\x1b\][^\x07]*\x07/;

/**
 * One line as the terminal leaves it: a carriage return or `ESC[nG` moves the cursor back, `ESC[K`
 * erases (to the end, or the whole line), later text overwrites earlier; other escapes take no room.
 * A spinner (ora, on stderr after 300 ms) draws, then clears itself this way on the line the output
 * continues on: dropping the escapes alone left its frame glued to the next text.
 */
function renderLine(raw: string): string {
  let cells: string[] = [];
  let col = 0;
  for (let i = 0; i < raw.length; ) {
    const ch = raw[i];
    if (ch === '\r') {
      col = 0;
      i++;
      continue;
    }
    if (ch === '\x1b') {
      const csi = CSI.exec(raw.slice(i));
      const seq = csi ?? OSC.exec(raw.slice(i));
      if (csi?.[2] === 'G') col = Math.max(0, Number(csi[1] || 1) - 1);
      else if (csi?.[2] === 'K') {
        const mode = csi[1] || '0';
        if (mode === '0') cells = cells.slice(0, col);
        else if (mode === '1') cells = cells.map((c, k) => (k <= col ? ' ' : c));
        else cells = [];
      }
      i += seq ? seq[0].length : 1;
      continue;
    }
    const glyph = String.fromCodePoint(raw.codePointAt(i)!);
    while (cells.length < col) cells.push(' ');
    cells[col++] = glyph;
    i += glyph.length;
  }
  return cells.join('');
}

/** The lines as a person sees them: escape sequences applied, the KTS_PID line dropped. */
export function screenLines(output: string): string[] {
  return output
    .split('\n')
    .map(renderLine)
    .filter((l) => !/^KTS_PID=\d+$/.test(l));
}

/** Characters a terminal gives a line (code points; no wide characters in kts's output). */
export const shownWidth = (line: string): number => [...line].length;
