// zoo.cfg / Kafka's config/zookeeper.properties keys -> CoordinatorOptions.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Properties } from '../config/properties.js';
import type { CoordinatorOptions } from './server.js';

export const DEFAULT_CLIENT_PORT = 2181;
export const DEFAULT_DATA_DIR = join(homedir(), '.kts', 'zookeeper');

export function coordinatorOptionsFromProperties(props: Properties, baseDir = process.cwd()): CoordinatorOptions {
  const int = (key: string): number | undefined => {
    const v = props.get(key)?.trim();
    if (v === undefined || v === '') return undefined;
    if (!/^-?\d+$/.test(v)) throw new Error(`Invalid ${key}: '${v}' is not an integer`);
    return Number(v);
  };
  const bool = (key: string): boolean | undefined => {
    const v = props.get(key)?.trim().toLowerCase();
    if (v === undefined || v === '') return undefined;
    return v === 'yes' || v === 'true';
  };
  const dir = (key: string) => {
    const v = props.get(key)?.trim();
    return v ? resolve(baseDir, v.replace(/^~(?=$|\/)/, homedir())) : undefined;
  };
  const whitelist = props.get('4lw.commands.whitelist');
  return {
    port: int('clientPort') ?? DEFAULT_CLIENT_PORT,
    host: props.get('clientPortAddress')?.trim() || undefined,
    dataDir: dir('dataDir') ?? DEFAULT_DATA_DIR,
    dataLogDir: dir('dataLogDir'),
    tickTime: int('tickTime'),
    minSessionTimeout: positive(int('minSessionTimeout')),
    maxSessionTimeout: positive(int('maxSessionTimeout')),
    maxClientCnxns: int('maxClientCnxns'),
    fourLetterWhitelist: whitelist === undefined ? undefined : whitelist.split(',').map((w) => w.trim()).filter(Boolean),
    snapCount: int('snapCount'),
    snapRetainCount: int('autopurge.snapRetainCount'),
    purgeIntervalHours: int('autopurge.purgeInterval'),
    forceSync: bool('forceSync') ?? bool('zookeeper.forceSync'),
    juteMaxBuffer: int('jute.maxbuffer'),
    extendedTypesEnabled: bool('extendedTypesEnabled') ?? bool('zookeeper.extendedTypesEnabled'),
  };
}

/** ZooKeeper treats -1 (and missing) session bounds as "use the tickTime default". */
function positive(v: number | undefined): number | undefined {
  return v === undefined || v < 0 ? undefined : v;
}
