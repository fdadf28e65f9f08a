// kts connect-standalone's refusals: one line on stderr and exit 1, before anything is started.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KTS_BIN, tempDir } from '../../helpers/broker.js';

function kts(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [KTS_BIN, 'connect-standalone', ...args], { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

const base = ['bootstrap.servers=127.0.0.1:9', 'key.converter=org.apache.kafka.connect.storage.StringConverter', 'value.converter=org.apache.kafka.connect.storage.StringConverter'];

describe('kts connect-standalone refuses bad input with one line and exit 1', () => {
  it('no arguments, a missing file, a missing key, a bad listener, a foreign offsets file, a nameless connector', async () => {
    const dir = tempDir('kts-connect-cli-');
    const write = (name: string, lines: string[]) => writeFileSync(join(dir, name), `${lines.join('\n')}\n`);
    write('no-offsets.properties', base);
    write('bad-listener.properties', [...base, 'offset.storage.file.filename=off', 'listeners=https://:8443']);
    write('good.properties', [...base, 'offset.storage.file.filename=java.offsets', 'listeners=http://127.0.0.1:0']);
    writeFileSync(join(dir, 'java.offsets'), Buffer.from([0xac, 0xed, 0x00, 0x05, 0x73, 0x72]));
    write('nameless.properties', ['connector.class=FileStreamSource', 'topic=t']);

    const cases: [string[], string][] = [
      [[], 'Usage: ConnectStandalone worker.properties [connector1.properties connector2.json ...]\n'],
      [['missing.properties'], 'kts connect-standalone: missing.properties: No such file or directory\n'],
      [['no-offsets.properties'], 'kts connect-standalone: Missing required configuration "offset.storage.file.filename" which has no default value.\n'],
      [['bad-listener.properties'], 'kts connect-standalone: kts connect serves http listeners only (https: not supported)\n'],
      [['good.properties', 'nameless.properties'], 'kts connect-standalone: nameless.properties: Connector config must contain a "name"\n'],
      [['good.properties'], "kts connect-standalone: java.offsets is not a kts offsets file (Kafka's Java-serialized offsets are not read: use another offset.storage.file.filename)\n"],
    ];
    for (const [args, stderr] of cases) {
      const r = await kts(args, dir);
      expect({ args, code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ args, code: 1, stderr, stdout: '' });
    }
  });
});
