// `meta.properties` in every log dir, as Kafka keeps it: which cluster and which broker the data
// belongs to. Read and checked before anything in the dirs is touched (a garbled file, another
// cluster's id or another broker's id stops the start with a line naming the file), written once
// the cluster id is known, only where missing or different.
import { join } from 'node:path';
import { parseProperties } from '../config/properties.js';
import { type FileSystem, nodeFileSystem, readSmallFile } from '../storage/file-system.js';
import { writeFileAtomic } from './atomic-file.js';

export const META_PROPERTIES = 'meta.properties';

export interface MetaProperties {
  path: string;
  version: 0 | 1;
  clusterId?: string;
  nodeId?: number;
}

/** What the log dirs say: their readable meta.properties (a dir without one is absent). */
export type MetaPropertiesEnsemble = Map<string, MetaProperties>;

export async function loadMetaProperties(logDirs: string[], fs: FileSystem = nodeFileSystem): Promise<MetaPropertiesEnsemble> {
  const ensemble: MetaPropertiesEnsemble = new Map();
  for (const dir of logDirs) {
    const path = join(dir, META_PROPERTIES);
    let bytes: Buffer | undefined;
    try {
      bytes = await readSmallFile(fs, path);
    } catch (err) {
      throw new Error(`Error while reading meta.properties file ${path}: ${(err as Error).message}`);
    }
    if (bytes === undefined) continue;
    const problem = (message: string) => new Error(`Error while reading meta.properties file ${path}: ${message}`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw problem('not a properties file (it is not text)');
    }
    if (text.includes('\0')) throw problem('not a properties file (it is not text)');
    const props = parseProperties(text);
    if (!['version', 'broker.id', 'node.id', 'cluster.id'].some((k) => props.has(k))) {
      throw problem('not a meta.properties file (none of version, broker.id, node.id, cluster.id)');
    }
    const versionText = props.get('version') ?? '0';
    if (!/^[+-]?\d+$/.test(versionText)) throw problem(`Invalid meta.properties version string '${versionText}'`);
    const version = Number(versionText);
    if (version !== 0 && version !== 1) throw problem(`Unknown meta.properties version number ${version}`);
    const idKey = version === 0 ? 'broker.id' : 'node.id';
    const idText = props.get(idKey);
    if (idText === undefined && version === 1) throw problem('node.id was not found.');
    let nodeId: number | undefined;
    if (idText !== undefined) {
      if (!/^[+-]?\d+$/.test(idText.trim()) || !Number.isSafeInteger(Number(idText))) throw problem(`Unable to read ${idKey} as a base-10 number.`);
      nodeId = Number(idText);
    }
    const clusterId = props.get('cluster.id');
    if (clusterId === undefined && version === 1) throw problem('cluster.id was not found.');
    ensemble.set(dir, { path, version, clusterId, nodeId });
  }
  return ensemble;
}

/**
 * Checks the dirs agree with each other, with the cluster id the metadata holds (when it holds one)
 * and with the configured broker id. Returns the cluster id they name, if any.
 */
export function verifyMetaProperties(ensemble: MetaPropertiesEnsemble, expected: { clusterId?: string; nodeId: number }): string | undefined {
  let clusterId = expected.clusterId;
  for (const meta of ensemble.values()) {
    if (meta.clusterId !== undefined) {
      if (clusterId === undefined) clusterId = meta.clusterId;
      else if (meta.clusterId !== clusterId) {
        throw new Error(`Invalid cluster.id in: ${meta.path}. Expected ${clusterId}, but read ${meta.clusterId}`);
      }
    }
    if (meta.nodeId !== undefined && meta.nodeId !== expected.nodeId) {
      throw new Error(
        `Configured broker.id ${expected.nodeId} doesn't match stored broker.id ${meta.nodeId} in ${meta.path}. ` +
          'If you moved your data, make sure your configured broker.id matches. ' +
          'If you intend to create a new broker, you should remove all data in your data directories (log.dirs).',
      );
    }
  }
  return clusterId;
}

/** Writes meta.properties where it is missing or says something else (a restart writes nothing). */
export async function writeMetaProperties(
  logDirs: string[],
  ensemble: MetaPropertiesEnsemble,
  clusterId: string,
  nodeId: number,
  fs: FileSystem = nodeFileSystem,
): Promise<void> {
  for (const dir of logDirs) {
    const meta = ensemble.get(dir);
    if (meta && meta.clusterId === clusterId && meta.nodeId === nodeId) continue;
    await writeFileAtomic(join(dir, META_PROPERTIES), `#\n#kts ${new Date().toISOString()}\nversion=0\nbroker.id=${nodeId}\ncluster.id=${clusterId}\n`, fs);
  }
}
