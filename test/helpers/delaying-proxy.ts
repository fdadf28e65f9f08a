// A loopback TCP proxy in front of a broker that holds back the answers to chosen APIs: it pairs
// each response with its request by correlation id and releases it a fixed time after it arrived,
// keeping the order of answers on the connection (Kafka clients expect them in request order).
// It makes a timing a loaded machine produces only sometimes (an answer that comes after the
// client stopped waiting for it) happen every time. Advertise its port as the broker's listener so
// that every connection, bootstrap or not, goes through it.
import net from 'node:net';

export interface DelayingProxy {
  port: number;
  /** Where connections go; set once the broker is up (the proxy's port must be known first). */
  target: number;
  /** How many answers of each API key went through, and how many were held back. */
  answered: Map<number, number>;
  delayed: Map<number, number>;
  close(): Promise<void>;
}

/** `delays`: API key -> milliseconds its answers are held back. */
export async function delayingProxy(delays: Record<number, number>): Promise<DelayingProxy> {
  const sockets = new Set<net.Socket>();
  const proxy: DelayingProxy = { port: 0, target: 0, answered: new Map(), delayed: new Map(), close: async () => undefined };
  const count = (m: Map<number, number>, key: number) => m.set(key, (m.get(key) ?? 0) + 1);
  const server = net.createServer((client) => {
    const upstream = net.connect(proxy.target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    const apiKeyOf = new Map<number, number>(); // correlation id -> API key
    let requests = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      upstream.write(d);
      requests = Buffer.concat([requests, d]);
      while (requests.length >= 4 && requests.length >= 4 + requests.readInt32BE(0)) {
        const size = requests.readInt32BE(0);
        const frame = requests.subarray(4, 4 + size);
        requests = requests.subarray(4 + size);
        if (frame.length >= 8) apiKeyOf.set(frame.readInt32BE(4), frame.readInt16BE(0));
      }
    });
    let responses = Buffer.alloc(0);
    // The last release of this connection: an answer never overtakes an earlier, held one.
    let released = Promise.resolve();
    upstream.on('data', (d: Buffer) => {
      responses = Buffer.concat([responses, d]);
      while (responses.length >= 8 && responses.length >= 4 + responses.readInt32BE(0)) {
        const size = responses.readInt32BE(0);
        const frame = Buffer.from(responses.subarray(0, 4 + size));
        responses = responses.subarray(4 + size);
        const correlationId = frame.readInt32BE(4);
        const apiKey = apiKeyOf.get(correlationId) ?? -1;
        apiKeyOf.delete(correlationId);
        count(proxy.answered, apiKey);
        const delayMs = delays[apiKey] ?? 0;
        if (delayMs > 0) count(proxy.delayed, apiKey);
        const due = new Promise<void>((r) => (delayMs > 0 ? setTimeout(r, delayMs) : r()));
        released = Promise.all([released, due]).then(() => {
          if (!client.destroyed) client.write(frame);
        });
      }
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => void released.then(() => client.destroy()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.port = (server.address() as net.AddressInfo).port;
  proxy.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return proxy;
}
