// The @platformatic/kafka driver of the client matrix (protocol.md).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import zlib from 'node:zlib';
import { Admin, Consumer, Producer, ProduceAcks, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { emit, fromHex, main, result, toHex, unsupported } from '../node-common.mjs';

const require = createRequire(import.meta.url);
const base = (c) => ({ clientId: 'matrix-platformatic', bootstrapBrokers: [c.bootstrap], retries: 20 });

async function produce(c, messages, extra = {}) {
  const producer = new Producer({ ...base(c), acks: ProduceAcks.ALL, ...extra });
  try {
    await producer.send({ messages: messages.map((m) => ({ topic: c.topic, partition: 0, ...m })) });
  } finally {
    await producer.close();
  }
}

/** The first `count` records of partition 0 (a consumer of a fresh group, no commits). */
async function readFromStart(c, count) {
  const consumer = new Consumer({ ...base(c), groupId: `${c.topic}-reader`, maxWaitTime: 200 });
  const stream = await consumer.consume({ topics: [c.topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
  const out = [];
  for await (const m of stream) {
    out.push(m);
    if (out.length >= count) break;
  }
  await stream.close();
  await consumer.close(true);
  return out;
}

await main({
  version: async () => result({ version: JSON.parse(readFileSync(join(dirname(require.resolve('@platformatic/kafka')), '../package.json'), 'utf8')).version }),
  metadata: async (c) => {
    const admin = new Admin(base(c));
    try {
      const md = await admin.metadata({ topics: [c.topic] });
      const brokers = [...md.brokers.entries()].map(([id, b]) => ({ id, host: b.host, port: b.port }));
      const partitions = md.topics.get(c.topic).partitions.map((p, partition) => ({ partition, leader: p.leader }));
      result({ brokers, partitions });
    } finally {
      await admin.close();
    }
  },
  produce: async (c) => {
    await produce(c, c.records.map((r) => ({ key: fromHex(r.key) ?? undefined, value: fromHex(r.value), headers: new Map(r.headers.map(([k, v]) => [Buffer.from(k), fromHex(v)])) })));
    result();
  },
  fetch: async (c) => {
    const records = await readFromStart(c, c.count);
    result({
      records: records.map((m) => ({
        offset: Number(m.offset),
        timestamp: Number(m.timestamp),
        key: m.key === undefined || m.key === null ? null : toHex(m.key),
        value: toHex(m.value),
        headers: [...(m.headers ?? new Map()).entries()].map(([k, v]) => [Buffer.from(k).toString(), toHex(v)]),
      })),
    });
  },
  offsets: async (c) => {
    const admin = new Admin(base(c));
    try {
      const ask = async (timestamp) => {
        const r = await admin.listOffsets({ topics: [{ name: c.topic, partitions: [{ partitionIndex: 0, timestamp: BigInt(timestamp) }] }] });
        const o = Number(r[0].partitions[0].offset);
        return o;
      };
      const byTime = [];
      for (const t of c.times) byTime.push(await ask(t));
      result({ earliest: await ask(-2), latest: await ask(-1), byTime: byTime.map((o) => (o === -1 ? null : o)) });
    } finally {
      await admin.close();
    }
  },
  group: async (c) => {
    const consumer = new Consumer({ ...base(c), groupId: c.group, groupProtocol: c.protocol, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTime: 200 });
    const owned = () =>
      (consumer.assignments ?? [])
        .filter((a) => a.topic === c.topic)
        .flatMap((a) => a.partitions)
        .sort((a, b) => a - b);
    let last = null;
    setInterval(() => {
      const now = JSON.stringify(owned());
      if (now !== last) {
        last = now;
        emit('assigned', { partitions: owned() });
      }
    }, 50);
    const stream = await consumer.consume({ topics: [c.topic], mode: MessagesStreamModes.EARLIEST, autocommit: false, deserializers: stringDeserializers });
    for await (const m of stream) {
      emit('record', { partition: m.partition, offset: Number(m.offset) });
      await m.commit();
    }
  },
  admin: async (c) => {
    const admin = new Admin(base(c));
    try {
      await admin.createTopics({ topics: [c.topic], partitions: 3, replicas: 1 });
      const md = await admin.metadata({ topics: [c.topic] });
      const partitions = md.topics.get(c.topic).partitions.length;
      await admin.deleteTopics({ topics: [c.topic] });
      result({ partitions });
    } finally {
      await admin.close();
    }
  },
  codec: async (c) => {
    if (c.codec === 'zstd' && !zlib.zstdCompressSync) return unsupported(`@platformatic/kafka compresses zstd with node:zlib, which Node.js ${process.versions.node} lacks (22.15+ has it)`);
    await produce(c, c.values.map((v) => ({ value: Buffer.from(v) })), { compression: c.codec });
    result({ values: (await readFromStart(c, c.values.length)).map((m) => Buffer.from(m.value).toString()) });
  },
  idempotent: async (c) => {
    await produce(c, c.values.map((v) => ({ value: fromHex(v) })), { idempotent: true });
    result();
  },
});
