// Names for shell completion that only the cluster knows: `kts console-consumer --topic <TAB>`
// lists the topics, `--group <TAB>` the consumer groups, `kts profile use <TAB>` the profiles. The
// cluster is the one the command line being completed would reach (its --bootstrap-server and
// --command-config, else the profile, $KTS_BOOTSTRAP_SERVER, localhost:9092). Completion must never
// hang a shell or print an error into it: the whole lookup is bounded by $KTS_COMPLETE_TIMEOUT_MS
// (default 1000 ms) and any failure gives no names (the shell then offers nothing, or file names).
import type { Properties } from '../config/properties.js';
import { raceTimeout } from '../util/timeout.js';

export type NameKind = 'topics' | 'groups' | 'profiles';

const DEFAULT_TIMEOUT_MS = 1000;

/**
 * The words as a shell split them, with bash's word breaks undone: bash cuts
 * `--bootstrap-server=localhost:9092` into `--bootstrap-server`, `=`, `localhost`, `:`, `9092`.
 */
export function rejoinWords(words: readonly string[]): string[] {
  const out: string[] = [];
  let glue = false;
  for (const w of words) {
    if (w === ':' && out.length > 0) {
      out[out.length - 1] += w;
      glue = true;
    } else if (w === '=' && out.length > 0) {
      glue = true;
      out.push('');
    } else if (glue && out.length > 0) {
      out[out.length - 1] += w;
      glue = false;
    } else {
      out.push(w);
    }
  }
  return out.filter((w, i, all) => w !== '' || i === all.length - 1);
}

/** The value of `--name v` or `--name=v` among the words (the last one given). */
function optionValue(words: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < words.length; i++) {
    if (words[i] === `--${name}` && i + 1 < words.length) value = words[i + 1];
    else if (words[i].startsWith(`--${name}=`)) value = words[i].slice(name.length + 3);
  }
  return value;
}

export async function namesFor(kind: NameKind, words: readonly string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  try {
    if (kind === 'profiles') {
      const { readProfiles } = await import('./profiles.js');
      return Object.keys(readProfiles(env).profiles).sort();
    }
    const budget = Number(env.KTS_COMPLETE_TIMEOUT_MS);
    const timeoutMs = Number.isInteger(budget) && budget > 0 ? budget : DEFAULT_TIMEOUT_MS;
    const found = clusterNames(kind, rejoinWords(words), env, timeoutMs).catch(() => []);
    return await raceTimeout(found, timeoutMs, () => []);
  } catch {
    return [];
  }
}

async function clusterNames(kind: 'topics' | 'groups', words: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string[]> {
  const [{ activeProfile }, { readPropertiesFile, clientOptions, profileProperties }, { KafkaClient }] = await Promise.all([
    import('./profiles.js'),
    import('./connect.js'),
    import('../client/index.js'),
  ]);
  let bootstrap = optionValue(words, 'bootstrap-server') ?? optionValue(words, 'broker-list') ?? optionValue(words, 'bootstrap-controller');
  let props: Properties = new Map();
  if (bootstrap === undefined) {
    const profile = activeProfile(env);
    bootstrap = profile?.bootstrapServers ?? (env.KTS_BOOTSTRAP_SERVER || 'localhost:9092');
    if (profile) props = await profileProperties(profile);
  }
  const file = optionValue(words, 'command-config') ?? optionValue(words, 'consumer.config') ?? optionValue(words, 'admin.config');
  if (file !== undefined) for (const [k, v] of await readPropertiesFile(file)) props.set(k, v);
  const options = await clientOptions(props, { ...env, KTS_CONNECT_TIMEOUT_MS: String(timeoutMs) }, 'kts-completion');
  const client = await KafkaClient.connect(bootstrap, { ...options, requestTimeoutMs: timeoutMs });
  try {
    if (kind === 'groups') return (await client.groups.listGroups()).map((g) => g.groupId).sort();
    return (await client.admin.listTopics({ includeInternal: true })).map((t) => t.name).sort();
  } finally {
    client.close();
  }
}
