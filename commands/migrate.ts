// kts migrate — not a Kafka tool (MirrorMaker 2 is Kafka's way, with a JVM and a Connect cluster):
// topics, records and consumer group positions from one cluster into another, in one command.
import { defineTool } from '../src/cli/tool.js';

export default defineTool({
  name: 'migrate',
  kafkaName: 'kts-migrate',
  describe: 'Copy topics, records and consumer group offsets from one cluster into another',
  summary:
    'Copies topics (partition counts and configs), every record (keys, values, headers, timestamps, in order) and every consumer group\'s committed offsets (translated to the target\'s offsets) from the --from cluster into the --to cluster. Interrupted, it resumes where it stopped when run again, writing no record twice.',
  runtimeError: { prefix: 'Error: ', stream: 'stderr' },
  load: () => import('../src/migrate/run.js'),
  options: [
    { name: 'from', arg: 'required', argName: 'source bootstrap servers', describe: 'The cluster to copy from, host:port[,host:port]. Default: the profile --from-profile names, else the cluster the other tools reach (the profile $KTS_PROFILE names, else $KTS_BOOTSTRAP_SERVER, else the profile in use, else localhost:9092).' },
    { name: 'to', arg: 'required', argName: 'target bootstrap servers', describe: 'The cluster to copy into, host:port[,host:port]. This or --to-profile is required.' },
    { name: 'from-profile', arg: 'required', argName: 'profile', describe: 'Copy from the cluster of this profile (kts profile), with its client settings.' },
    { name: 'to-profile', arg: 'required', argName: 'profile', describe: 'Copy into the cluster of this profile (kts profile), with its client settings.' },
    { name: 'from-config', arg: 'required', argName: 'client property file', describe: 'Client settings (security.protocol, ssl.*, sasl.*) for the source cluster; they win over its profile\'s.' },
    { name: 'to-config', arg: 'required', argName: 'client property file', describe: 'Client settings for the target cluster; they win over its profile\'s.' },
    { name: 'topics', arg: 'required', argName: 'regex', describe: 'The topics to copy (a regular expression matching the whole name). Default: every topic but the internal ones (__*, *.internal, *-internal).' },
    { name: 'groups', arg: 'required', argName: 'regex', describe: 'The consumer groups whose offsets are translated. Default: every group with committed offsets on the copied topics.' },
    { name: 'replication-factor', arg: 'required', type: 'int', argName: 'n', describe: 'Replication factor of the topics created on the target. Default: the target\'s default.replication.factor.' },
    { name: 'throttle', arg: 'required', type: 'long', argName: 'bytes/sec', describe: 'Copy at most this many bytes per second, so the clusters keep serving their clients. Default: no limit.' },
    { name: 'dry-run', describe: 'Print what would be created, copied and translated, and write nothing.' },
  ],
  epilogue:
    'Records are read read_committed up to the source\'s end when the run starts (a rerun copies what arrived since) and written with an idempotent producer; ' +
    'record batches move as bytes where the target accepts them unchanged. The mapping of source to target offsets and the progress live on the target in the compacted ' +
    'topic kts-migrate.offset-syncs.internal. Stop the groups\' consumers first: a group with active members on the target is not committed (exit 1). ' +
    'kts: --output json prints {"dryRun", "topics": [{"name", "partitions", "action", "configs", "records", "bytes"}], "groups": [{"groupId", "offsets": [{"topic", "partition", "source", "target"}], "error"?}], "records", "bytes", "elapsedMs"}.',
  examples: [
    ['--from localhost:9092 --to kafka-1:9092,kafka-2:9092 --dry-run', 'what would be migrated into a Kafka cluster'],
    ['--from localhost:9092 --to kafka-1:9092,kafka-2:9092', 'migrate every topic and group (run it again after an interruption)'],
    ['--from localhost:9092 --to localhost:9192 --topics \'orders|payments\' --groups \'billing-.*\'', 'only some topics and groups'],
    ['--from-profile local --to-profile prod', 'between two profiles\' clusters, each with its own security settings'],
  ],
});
