// Where SCRAM credentials live (never passwords: salt, iterations, StoredKey, ServerKey):
// - ZooKeeper mode: Kafka's /config/users/<user> znode (the name URL-encoded as Kafka's Sanitizer does), {"version":1,"config":{"SCRAM-SHA-512":
//   "salt=..,stored_key=..,server_key=..,iterations=4096"}}, each change announced under
//   /config/changes as Kafka's AdminZkClient does. Every authentication reads the znode, so a
//   credential altered through any broker holds at once on all of them.
// - the embedded store: `kts-scram-credentials.json` in the first log dir (mode 0600 on disk),
//   replaced atomically through the broker's file system.
import { join } from 'node:path';
import { type FileSystem, readSmallFile, writeFileAtomic } from '../../storage/file-system.js';
import type { ZkSession } from '../../cluster/zk-session.js';
import { desanitize, sanitize } from '../../cluster/zk-names.js';
import { formatCredential, parseCredential, SCRAM_MECHANISMS, type ScramCredential, type ScramMechanism } from './sasl/scram.js';

export const SCRAM_FILE = 'kts-scram-credentials.json';

/** A user's credentials, mechanism -> stored form. */
export type UserCredentials = Map<ScramMechanism, ScramCredential>;

export interface ScramStore {
  get(mechanism: ScramMechanism, user: string): Promise<ScramCredential | undefined>;
  /** Every user with credentials, or the named ones (those without none are left out). */
  describe(users: string[] | null): Promise<Map<string, UserCredentials>>;
  /** Upserts and deletions, one user at a time, durably. */
  alter(user: string, upserts: Map<ScramMechanism, ScramCredential>, deletions: ScramMechanism[]): Promise<void>;
}

const encodeUser = (c: UserCredentials) => Object.fromEntries([...c].map(([m, cred]) => [m, formatCredential(cred)]));

function decodeUser(config: unknown): UserCredentials {
  const out: UserCredentials = new Map();
  if (typeof config !== 'object' || config === null) return out;
  for (const m of SCRAM_MECHANISMS) {
    const text = (config as Record<string, unknown>)[m];
    const cred = typeof text === 'string' ? parseCredential(text) : undefined;
    if (cred) out.set(m, cred);
  }
  return out;
}

export class FileScramStore implements ScramStore {
  private users = new Map<string, UserCredentials>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly fs: FileSystem,
  ) {}

  static async open(dir: string, fs: FileSystem): Promise<FileScramStore> {
    const store = new FileScramStore(dir, fs);
    const path = join(dir, SCRAM_FILE);
    const bytes = await readSmallFile(fs, path);
    if (bytes) {
      let doc: { version?: unknown; users?: unknown };
      try {
        doc = JSON.parse(bytes.toString('utf8'));
      } catch (err) {
        throw new Error(`${path}: not valid JSON (${(err as Error).message}); refusing to start on a damaged credentials file`);
      }
      if (doc.version !== 1 || typeof doc.users !== 'object' || doc.users === null) throw new Error(`${path}: not a version 1 credentials document; refusing to start on a damaged credentials file`);
      for (const [user, config] of Object.entries(doc.users)) store.users.set(user, decodeUser(config));
    }
    return store;
  }

  async get(mechanism: ScramMechanism, user: string): Promise<ScramCredential | undefined> {
    return this.users.get(user)?.get(mechanism);
  }

  async describe(users: string[] | null): Promise<Map<string, UserCredentials>> {
    const out = new Map<string, UserCredentials>();
    for (const [user, creds] of this.users) if (creds.size > 0 && (users === null || users.includes(user))) out.set(user, creds);
    return out;
  }

  alter(user: string, upserts: Map<ScramMechanism, ScramCredential>, deletions: ScramMechanism[]): Promise<void> {
    const run = this.writes.then(async () => {
      const next = new Map(this.users);
      const creds = new Map(next.get(user) ?? []);
      for (const m of deletions) creds.delete(m);
      for (const [m, c] of upserts) creds.set(m, c);
      if (creds.size === 0) next.delete(user);
      else next.set(user, creds);
      const doc = { version: 1, users: Object.fromEntries([...next].map(([u, c]) => [u, encodeUser(c)])) };
      await this.fs.mkdir(this.dir, { recursive: true });
      await writeFileAtomic(this.fs, this.dir, SCRAM_FILE, Buffer.from(JSON.stringify(doc, null, 1)));
      this.users = next;
    });
    this.writes = run.catch(() => {});
    return run;
  }
}

export class ZkScramStore implements ScramStore {
  constructor(private readonly zk: ZkSession) {}

  private async read(user: string): Promise<{ config: Record<string, unknown>; version: number } | null> {
    const node = await this.zk.getDataIfExists(`/config/users/${sanitize(user)}`);
    if (!node) return null;
    try {
      const doc = JSON.parse(node.data?.toString('utf8') ?? '{}');
      return { config: typeof doc.config === 'object' && doc.config ? doc.config : {}, version: node.stat.version };
    } catch {
      return { config: {}, version: node.stat.version };
    }
  }

  async get(mechanism: ScramMechanism, user: string): Promise<ScramCredential | undefined> {
    const node = await this.read(user);
    return node ? decodeUser(node.config).get(mechanism) : undefined;
  }

  async describe(users: string[] | null): Promise<Map<string, UserCredentials>> {
    const names = users ?? (await this.zk.getChildren('/config/users').catch(() => [] as string[])).map(desanitize);
    const out = new Map<string, UserCredentials>();
    for (const user of names) {
      const node = await this.read(user);
      const creds = node ? decodeUser(node.config) : new Map();
      if (creds.size > 0) out.set(user, creds);
    }
    return out;
  }

  async alter(user: string, upserts: Map<ScramMechanism, ScramCredential>, deletions: ScramMechanism[]): Promise<void> {
    await this.zk.mkdirp('/config/users');
    await this.zk.mkdirp('/config/changes');
    const path = `/config/users/${sanitize(user)}`;
    // The user's other configs (quotas) stay; the write is conditioned on the version read.
    for (let attempt = 0; ; attempt++) {
      const node = await this.read(user);
      const config: Record<string, unknown> = { ...(node?.config ?? {}) };
      for (const m of deletions) delete config[m];
      for (const [m, c] of upserts) config[m] = formatCredential(c);
      const data = Buffer.from(JSON.stringify({ version: 1, config }), 'utf8');
      try {
        if (node) await this.zk.setData(path, data, node.version);
        else await this.zk.create(path, data, 'persistent');
        break;
      } catch (err) {
        if (attempt >= 5) throw err;
      }
    }
    await this.zk.create('/config/changes/config_change_', Buffer.from(JSON.stringify({ version: 2, entity_path: `users/${sanitize(user)}` }), 'utf8'), 'persistent_sequential');
  }
}
