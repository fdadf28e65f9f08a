// The pseudo-terminal tests read lines as a person sees them: a spinner that drew and cleared itself
// must not stay glued to the output that follows it (a loaded CI run lost 'Cluster <id>' that way).
import { expect, it } from 'vitest';
import { screenLines } from '../../helpers/pty.js';

it('applies carriage returns, cursor-to-column and erase-line as a terminal does', () => {
  // ora's frame, then its stop(): cursorTo(0) and clearLine(1), then the table's title.
  expect(screenLines('\x1b[?25l\x1b[36m⠋\x1b[39m Connecting\x1b[1G\x1b[0K\x1b[?25hCluster abc\r\nID  HOST\r\n')).toEqual(['Cluster abc', 'ID  HOST', '']);
  expect(screenLines('copying 50%\rcopying 75%\r\n')).toEqual(['copying 75%', '']);
  expect(screenLines('long line\r\x1b[2Kshort\r\n')).toEqual(['short', '']);
  expect(screenLines('KTS_PID=42\r\n\x1b]0;title\x07\x1b[1mbold\x1b[0m\r\n')).toEqual(['bold', '']);
});
