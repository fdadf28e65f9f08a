// Every kts subcommand, its one-line description and the Kafka script names that reach it. `kts
// --help` prints this table without importing a single command module; main.ts imports only the one
// module a run needs.

export interface CommandEntry {
  name: string;
  describe: string;
  /** Kafka script names (without `.sh`) that run this command when kts is invoked by them. */
  scripts: string[];
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'topics', describe: 'Create, delete, describe, or change a topic', scripts: ['kafka-topics'] },
  { name: 'console-producer', describe: 'Read lines from standard input and publish them to a topic', scripts: ['kafka-console-producer'] },
  { name: 'console-consumer', describe: 'Consume records from topics and print them to standard output', scripts: ['kafka-console-consumer'] },
  { name: 'get-offsets', describe: 'Print the offsets of topic partitions at a given time', scripts: ['kafka-get-offsets'] },
  { name: 'configs', describe: 'Describe or alter topic and broker configs', scripts: ['kafka-configs'] },
  { name: 'delete-records', describe: 'Delete records of partitions up to given offsets', scripts: ['kafka-delete-records'] },
  { name: 'reassign-partitions', describe: 'Move partition replicas between brokers', scripts: ['kafka-reassign-partitions'] },
  { name: 'leader-election', describe: 'Elect preferred or unclean leaders of partitions', scripts: ['kafka-leader-election'] },
  { name: 'transactions', describe: 'List and describe the transactions of the cluster', scripts: ['kafka-transactions'] },
  { name: 'acls', describe: 'Add, remove and list ACLs', scripts: ['kafka-acls'] },
  { name: 'streams-application-reset', describe: "Reset a Kafka Streams application's offsets and delete its internal topics", scripts: ['kafka-streams-application-reset'] },
  { name: 'consumer-groups', describe: 'List, describe, delete consumer groups and reset their offsets', scripts: ['kafka-consumer-groups'] },
  { name: 'profile', describe: 'Keep named connection profiles (bootstrap servers, security settings) the tools use by default', scripts: [] },
  { name: 'cluster', describe: 'Show the cluster: id, controller, brokers, topic and partition counts, partitions in trouble', scripts: [] },
  { name: 'certs', describe: 'Make a development CA and broker/client certificates (PEM) for TLS listeners', scripts: [] },
  { name: 'migrate', describe: 'Copy topics, records and consumer group offsets from one cluster into another', scripts: [] },
  { name: 'console', describe: 'Serve a web console for the cluster (topics, messages, groups and lag) on loopback', scripts: [] },
  { name: 'connect-distributed', describe: 'Run a Kafka Connect worker in distributed mode (connectors shared by a group of workers)', scripts: ['connect-distributed'] },
  { name: 'connect-standalone', describe: 'Run a Kafka Connect worker in standalone mode with file or plugin connectors', scripts: ['connect-standalone'] },
  { name: 'server-start', describe: 'Start a Kafka broker from a server.properties file', scripts: ['kafka-server-start'] },
  { name: 'zookeeper-server-start', describe: 'Start a ZooKeeper-protocol coordinator from a zookeeper.properties file', scripts: ['zookeeper-server-start'] },
];

/**
 * The command a program name or subcommand word selects: `kafka-topics.sh`, `kafka-topics` and
 * `topics` all give `topics`. Undefined when it is none of them (`kts`, `kts.js`, `node`).
 */
export function commandFor(word: string): CommandEntry | undefined {
  const base = word.endsWith('.sh') ? word.slice(0, -3) : word;
  return COMMANDS.find((c) => c.name === base || c.scripts.includes(base));
}

export function renderCommandList(version: string): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const lines = [
    `kts ${version}: Apache Kafka's tools, broker and coordinator in one binary`,
    '',
    'Usage: kts <command> [options]      (or run it as kafka-topics.sh, kafka-console-consumer, ...)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.describe}`),
    '',
    `  ${'help <command>'.padEnd(width)}Show a command's options and examples`,
    `  ${'completion <sh>'.padEnd(width)}Print a completion script for bash, zsh or fish: eval "$(kts completion bash)"`,
    '',
    'Options:',
    '  --help      Show this list (kts <command> --help shows a command\'s options)',
    '  --version   Print the kts version',
    '',
    'Environment: KTS_PROFILE (the profile to use, see kts help profile), KTS_BOOTSTRAP_SERVER (default for --bootstrap-server',
    '  when no profile is named, else the profile in use, else localhost:9092),',
    '  KTS_CONNECT_TIMEOUT_MS (how long the tools try to reach a broker, default 10000), KTS_DEBUG=1 (stack traces).',
  ];
  return `${lines.join('\n')}\n`;
}
