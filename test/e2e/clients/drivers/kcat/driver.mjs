// The kcat driver of the client matrix (protocol.md): kcat is a command-line client (on
// librdkafka), so this driver runs it ($KCAT) and turns its output into the protocol's lines.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { emit, fromHex, main, result, toHex, unsupported } from '../node-common.mjs';

const KCAT = process.env.KCAT || 'kcat';
// Between records on stdin: no value of the matrix contains it.
const DELIMITER = '<<kts-matrix-record-end>>';
const kcat = (args, input) => execFileSync(KCAT, args, { input, maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'pipe'] });
const versionLine = () => kcat(['-V']).toString();
const librdkafkaVersion = () => /librdkafka ([\d.]+)/.exec(versionLine())[1];
const atLeast = (v, want) => {
  const [a, b] = v.split('.').map(Number);
  const [x, y] = want.split('.').map(Number);
  return a > x || (a === x && b >= y);
};

/** Parses `-f '%o %T %K %S %h\n%k%s\n'` output: lengths first, so binary keys and values survive. */
function parseRecords(out) {
  const records = [];
  let pos = 0;
  while (pos < out.length) {
    const nl = out.indexOf(10, pos);
    const line = out.subarray(pos, nl).toString('latin1');
    const [offset, timestamp, keyLength, valueLength] = line.split(' ', 4).map(Number);
    const headerText = out.subarray(pos, nl).subarray(line.split(' ', 4).join(' ').length + 1);
    pos = nl + 1;
    const key = keyLength < 0 ? null : out.subarray(pos, pos + keyLength);
    pos += Math.max(keyLength, 0);
    const value = out.subarray(pos, pos + Math.max(valueLength, 0));
    pos += Math.max(valueLength, 0) + 1;
    const headers = headerText.length === 0 ? [] : splitHeaders(headerText);
    records.push({ offset, timestamp, key: toHex(key), value: toHex(value), headers });
  }
  return records;
}

/** `name=value,name=value` as kcat's %h prints it (raw bytes, no escaping). */
function splitHeaders(buf) {
  const out = [];
  let start = 0;
  for (let i = 0; i <= buf.length; i++) {
    if (i === buf.length || buf[i] === 0x2c) {
      const part = buf.subarray(start, i);
      const eq = part.indexOf(0x3d);
      out.push([part.subarray(0, eq).toString(), toHex(part.subarray(eq + 1))]);
      start = i + 1;
    }
  }
  return out;
}

const consume = (c, count) =>
  kcat(['-C', '-b', c.bootstrap, '-t', c.topic, '-p', '0', '-o', 'beginning', '-c', String(count), '-e', '-q', '-f', '%o %T %K %S %h\\n%k%s\\n']);

function produceValues(c, values, extra) {
  kcat(['-P', '-b', c.bootstrap, '-t', c.topic, '-p', '0', '-X', 'acks=all', '-D', DELIMITER, ...extra], Buffer.concat(values.flatMap((v) => [v, Buffer.from(DELIMITER)])));
}

await main({
  version: async () => result({ version: /Version ([\d.]+)/.exec(versionLine())[1] }),
  metadata: async (c) => {
    const md = JSON.parse(kcat(['-L', '-J', '-b', c.bootstrap, '-t', c.topic]).toString());
    result({
      brokers: md.brokers.map((b) => ({ id: b.id, host: b.name.split(':')[0], port: Number(b.name.split(':')[1]) })),
      partitions: md.topics[0].partitions.map((p) => ({ partition: p.partition, leader: p.leader })),
    });
  },
  produce: async (c) => {
    // One kcat per record: -k and -H apply to every record of a run.
    const dir = mkdtempSync(join(tmpdir(), 'kcat-driver-'));
    try {
      for (const r of c.records) {
        const file = join(dir, 'value');
        writeFileSync(file, fromHex(r.value));
        const args = ['-P', '-b', c.bootstrap, '-t', c.topic, '-p', '0', '-X', 'acks=all'];
        if (r.key !== null) args.push('-k', fromHex(r.key).toString());
        for (const [k, v] of r.headers) args.push('-H', `${k}=${fromHex(v).toString()}`);
        kcat([...args, file]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    result();
  },
  fetch: async (c) => result({ records: parseRecords(consume(c, c.count)) }),
  offsets: async (c) => {
    const at = (t) => {
      const out = kcat(['-Q', '-b', c.bootstrap, '-t', `${c.topic}:0:${t}`]).toString();
      const offset = Number(/offset (-?\d+)/.exec(out)[1]);
      return offset < 0 ? null : offset;
    };
    result({ earliest: at(-2), latest: at(-1), byTime: c.times.map(at) });
  },
  group: async (c) => {
    const rdk = librdkafkaVersion();
    if (c.protocol === 'consumer' && !atLeast(rdk, '2.12')) return unsupported(`kcat here is built on librdkafka ${rdk}; KIP-848 groups need librdkafka 2.12+`);
    const args = ['-b', c.bootstrap, '-u', '-G', c.group, c.topic, '-f', '%p %o\\n', '-X', 'auto.offset.reset=earliest', '-X', 'auto.commit.interval.ms=200'];
    if (c.protocol === 'consumer') args.push('-X', 'group.protocol=consumer');
    else args.push('-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=500');
    const child = spawn(KCAT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [partition, offset] = line.split(' ').map(Number);
      emit('record', { partition, offset });
    });
    // "% Group g rebalanced (memberid ...): assigned: t [0], t [1]" / "...: revoked: ..."
    createInterface({ input: child.stderr }).on('line', (line) => {
      const m = /rebalanced .*: (assigned|revoked): (.*)/.exec(line);
      if (!m) return process.stderr.write(line + '\n');
      const partitions = m[1] === 'assigned' ? [...m[2].matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1])) : [];
      emit('assigned', { partitions });
    });
    await new Promise((resolve) => child.once('exit', resolve));
    throw new Error(`kcat exited with ${child.exitCode}`);
  },
  admin: async () => unsupported('kcat has no topic administration (create, delete)'),
  codec: async (c) => {
    produceValues(c, c.values.map((v) => Buffer.from(v)), ['-z', c.codec]);
    result({ values: parseRecords(consume(c, c.values.length)).map((r) => Buffer.from(r.value, 'hex').toString()) });
  },
  idempotent: async (c) => {
    produceValues(c, c.values.map(fromHex), ['-X', 'enable.idempotence=true']);
    result();
  },
});
