// The npm node-zookeeper-client (callback API) as promises: a third-party ZooKeeper client for the
// coordinator's crash tests.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const zookeeper: any = require('node-zookeeper-client');

/** A connected client (no retries: a test wants to see a refused connection). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function connect(port: number, sessionTimeout = 6000): Promise<any> {
  const c = zookeeper.createClient(`127.0.0.1:${port}`, { sessionTimeout, spinDelay: 50, retries: 0 });
  c.on('error', () => {});
  await new Promise<void>((r) => {
    c.once('connected', () => r());
    c.connect();
  });
  return c;
}

/** Calls a callback-style client method and resolves with its result. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const call = <T = any>(c: any, method: string, ...args: unknown[]): Promise<T> =>
  new Promise((res, rej) => c[method](...args, (err: Error | null, out: T) => (err ? rej(err) : res(out))));

/** A persistent znode with open ACLs. */
export const create = (c: unknown, path: string, data = 'd') => call<string>(c, 'create', path, Buffer.from(data), zookeeper.ACL.OPEN_ACL_UNSAFE, 0);
