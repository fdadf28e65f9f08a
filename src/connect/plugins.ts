// The connector classes a worker knows: Kafka's file connectors, built in, and every connector an
// ES module under plugin.path exports (a class with `static type = 'source' | 'sink'`). plugin.path
// is Kafka's: a comma-separated list of directories (each file in it and in its subdirectories is
// tried) or files. Kafka's jars found there (the quickstart adds libs/connect-file-*.jar) are
// skipped: kts has those connectors built in.
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConnectorClass } from './api.js';
import { FileStreamSinkConnector, FileStreamSourceConnector } from './file-connectors.js';

export interface PluginInfo {
  cls: ConnectorClass;
  className: string;
  type: 'source' | 'sink';
  version: string;
}

const MODULE_EXTENSIONS = new Set(['.mjs', '.js']);

export class PluginRegistry {
  readonly plugins: PluginInfo[] = [];

  constructor() {
    this.add(FileStreamSinkConnector);
    this.add(FileStreamSourceConnector);
  }

  private add(cls: ConnectorClass): void {
    const className = cls.className ?? cls.name;
    if (this.plugins.some((p) => p.className === className)) return;
    let version = 'undefined';
    try {
      version = new cls().version();
    } catch {
      /* a connector whose version() needs start() */
    }
    this.plugins.push({ cls, className, type: cls.type, version });
    this.plugins.sort((a, b) => a.className.localeCompare(b.className));
  }

  /** Loads every module on the path; returns one warning line per module that could not load. */
  async load(pluginPath: string | undefined, log: (line: string) => void): Promise<void> {
    for (const entry of (pluginPath ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const path = resolve(entry);
      let files: string[];
      try {
        files = (await stat(path)).isDirectory() ? await modulesIn(path, 2) : [path];
      } catch {
        log(`WARN plugin.path entry ${entry} does not exist`);
        continue;
      }
      for (const file of files) {
        if (!MODULE_EXTENSIONS.has(extname(file))) continue;
        try {
          const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
          for (const value of Object.values(mod)) {
            if (typeof value === 'function' && ((value as ConnectorClass).type === 'source' || (value as ConnectorClass).type === 'sink')) this.add(value as ConnectorClass);
          }
        } catch (err) {
          log(`WARN could not load plugin ${file}: ${(err as Error).message}`);
        }
      }
    }
  }

  /** Kafka's aliases: the full name, the simple name, or the simple name without "Connector". */
  find(name: string): PluginInfo | undefined {
    const n = name.trim();
    return this.plugins.find((p) => {
      const simple = p.className.slice(p.className.lastIndexOf('.') + 1);
      return p.className === n || simple === n || (simple.endsWith('Connector') && simple.slice(0, -'Connector'.length) === n);
    });
  }
}

async function modulesIn(dir: string, depth: number): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory() && depth > 0) out.push(...(await modulesIn(p, depth - 1)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}
