#!/usr/bin/env node
// Captures the magic-2 batches kcat (librdkafka) sends, one per compression codec, into
// test/fixtures/records/kcat-batches.json. A minimal fake broker answers ApiVersions (v3 only),
// Metadata v1 and Produce v7 just enough for kcat to send one Produce (it must see Fetch up to v10
// and FindCoordinator, or it quietly sends zstd and lz4 uncompressed). Run by hand:
//   node scripts/capture-kcat-batches.mjs
import net from 'node:net';
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const TOPIC = 't';
// Enough repetitive data that librdkafka keeps the compressed form (it sends a batch uncompressed
// when compression does not make it smaller). kcat sends an empty key/value as empty, not null.
const LINES = ['k1:v1', 'k2:', ':v3', ...Array.from({ length: 20 }, (_, i) => `key-${i}:${`value ${i} `.repeat(8)}`)];
const INPUT = LINES.join('\n') + '\n';
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

function str(s) {
  const b = Buffer.from(s);
  const len = Buffer.alloc(2);
  len.writeInt16BE(b.length);
  return Buffer.concat([len, b]);
}
const i16 = (n) => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
const i32 = (n) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const i64 = (n) => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(n)); return b; };
const frame = (correlationId, body) => Buffer.concat([i32(4 + body.length), i32(correlationId), body]);

function apiVersionsV3() {
  const apis = [[0, 0, 7], [1, 0, 10], [3, 1, 1], [10, 0, 0], [18, 0, 3]];
  const parts = [i16(0), Buffer.from([apis.length + 1])];
  for (const [k, lo, hi] of apis) parts.push(i16(k), i16(lo), i16(hi), Buffer.from([0]));
  parts.push(i32(0), Buffer.from([0]));
  return Buffer.concat(parts);
}

function metadataV1(port) {
  return Buffer.concat([
    i32(1), i32(0), str('127.0.0.1'), i32(port), i16(-1), // brokers (rack null)
    i32(0), // controller
    i32(1), i16(0), str(TOPIC), Buffer.from([0]), // topics: error, name, internal
    i32(1), i16(0), i32(0), i32(0), i32(1), i32(0), i32(1), i32(0), // one partition led by 0
  ]);
}

function produceV7Response() {
  return Buffer.concat([i32(1), str(TOPIC), i32(1), i32(0), i16(0), i64(0), i64(-1), i64(0), i32(0)]);
}

// Produce v7 request body after the v1 header: transactional_id, acks, timeout, topics.
function extractRecords(req, pos) {
  const tidLen = req.readInt16BE(pos);
  pos += 2 + Math.max(0, tidLen) + 2 + 4;
  pos += 4; // topic count (1)
  pos += 2 + req.readInt16BE(pos); // topic name
  pos += 4 + 4; // partition count (1), partition index
  const size = req.readInt32BE(pos);
  return req.subarray(pos + 4, pos + 4 + size);
}

function capture(codec) {
  return new Promise((resolve, reject) => {
    let child;
    const server = net.createServer((sock) => {
      let pending = Buffer.alloc(0);
      sock.on('error', () => {});
      sock.on('data', (d) => {
        pending = Buffer.concat([pending, d]);
        while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
          const req = pending.subarray(4, 4 + pending.readInt32BE(0));
          pending = pending.subarray(4 + req.length);
          const apiKey = req.readInt16BE(0);
          const correlationId = req.readInt32BE(4);
          const bodyPos = 8 + 2 + Math.max(0, req.readInt16BE(8));
          if (apiKey === 18) sock.write(frame(correlationId, apiVersionsV3()));
          else if (apiKey === 3) sock.write(frame(correlationId, metadataV1(server.address().port)));
          else if (apiKey === 0) {
            const records = Buffer.from(extractRecords(req, bodyPos));
            sock.write(frame(correlationId, produceV7Response()));
            resolve({ codec, produceVersion: req.readInt16BE(2), hex: records.toString('hex') });
            setTimeout(() => server.close(), 100);
          }
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port;
      child = spawn('kcat', ['-P', '-b', `127.0.0.1:${port}`, '-t', TOPIC, '-p', '0', '-K:', '-H', 'hk=hv', '-X', `compression.codec=${codec}`, '-X', 'linger.ms=50'], {
        stdio: ['pipe', 'ignore', 'inherit'],
      });
      child.stdin.end(INPUT);
      child.on('error', reject);
    });
    setTimeout(() => {
      child?.kill();
      reject(new Error(`timed out capturing ${codec}`));
    }, 10_000).unref();
  });
}

const version = execFileSync('kcat', ['-V']).toString().match(/librdkafka ([0-9.]+)/)?.[1] ?? 'unknown';
const cases = [];
for (const codec of CODECS) cases.push(await capture(codec));
writeFileSync(
  new URL('../test/fixtures/records/kcat-batches.json', import.meta.url),
  JSON.stringify(
    {
      source: `kcat -P -K: -H hk=hv -z <codec> (librdkafka ${version}), Produce request records captured by a fake broker`,
      input: INPUT,
      records: LINES.map((line) => {
        const i = line.indexOf(':');
        return { key: line.slice(0, i), value: line.slice(i + 1), headers: [{ key: 'hk', value: 'hv' }] };
      }),
      cases,
    },
    null,
    2,
  ) + '\n',
);
console.log(`captured ${cases.length} kcat batches (librdkafka ${version})`);
