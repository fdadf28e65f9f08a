// kts topics — Kafka's kafka-topics.sh (TopicCommand): create, list, describe, alter, delete.
import { defineTool } from '../src/cli/tool.js';

export default defineTool({
  name: 'topics',
  kafkaName: 'kafka-topics.sh',
  describe: 'Create, delete, describe, or change a topic',
  summary: 'Create, delete, describe, or change a topic.',
  runtimeError: { prefix: 'Error while executing topic command : ', stream: 'stdout' },
  load: () => import('../src/cli/tools/topics.js'),
  options: [
    { name: 'bootstrap-server', arg: 'required', argName: 'server to connect to', describe: 'The broker(s) to connect to, host:port[,host:port]. Default: the profile $KTS_PROFILE names, else $KTS_BOOTSTRAP_SERVER, else the profile in use (kts profile), else localhost:9092.' },
    { name: 'command-config', arg: 'required', argName: 'command config property file', describe: 'A properties file of admin client settings.' },
    { name: 'list', describe: 'List the topics (sorted; internal ones included unless --exclude-internal).' },
    { name: 'create', describe: 'Create the topic named by --topic.' },
    { name: 'delete', describe: 'Delete the topics matching --topic.' },
    { name: 'alter', describe: 'Raise the partition count (--partitions) of the topics matching --topic. Configs are changed with kts configs.' },
    { name: 'describe', describe: 'Print the partitions, leaders, replicas and overridden configs of topics.' },
    { name: 'topic', arg: 'required', argName: 'topic', describe: 'Topic name; for everything but --create a regular expression matched against whole names (commas mean "or"; escape dots as \\. to match them literally).' },
    { name: 'topic-id', arg: 'required', argName: 'topic-id', describe: 'Describe the topic with this id instead of --topic.' },
    { name: 'config', arg: 'required', argName: 'name=value', repeatable: true, describe: 'A config override for the topic being created (repeatable). --create only; use kts configs to change an existing topic.' },
    { name: 'delete-config', arg: 'required', argName: 'name', repeatable: true, describe: 'Not supported with --bootstrap-server (use kts configs --alter --delete-config).' },
    { name: 'partitions', arg: 'required', type: 'int', argName: '# of partitions', describe: 'Partition count for --create (default: the broker\'s num.partitions) or the new, larger count for --alter. Adding partitions moves keys to other partitions.' },
    { name: 'replication-factor', arg: 'required', type: 'int', argName: 'replication factor', describe: 'Replicas per partition for --create (default: the broker\'s default.replication.factor).' },
    { name: 'replica-assignment', arg: 'required', argName: 'b1:b2,b1:b2,...', describe: 'Explicit broker ids per partition: replicas joined by ":", partitions by ",".' },
    { name: 'under-replicated-partitions', describe: '--describe: print only partitions with fewer in-sync replicas than replicas.' },
    { name: 'unavailable-partitions', describe: '--describe: print only partitions without a live leader.' },
    { name: 'under-min-isr-partitions', describe: '--describe: print only partitions whose ISR is below min.insync.replicas.' },
    { name: 'at-min-isr-partitions', describe: '--describe: print only partitions whose ISR equals min.insync.replicas.' },
    { name: 'topics-with-overrides', describe: '--describe: print only topics with non-default configs (summary lines only).' },
    { name: 'if-exists', describe: '--alter/--delete/--describe: no error when no topic matches.' },
    { name: 'if-not-exists', describe: '--create: no error when the topic already exists.' },
    { name: 'exclude-internal', describe: '--list/--describe: leave out internal topics such as __consumer_offsets.' },
    { name: 'partition-size-limit-per-response', arg: 'required', type: 'int', argName: 'maximum number of partitions in one page', describe: 'Accepted for compatibility (paging of describe answers).' },
  ],
  epilogue:
    'kts: --output json prints {"topics": [names]} for --list, {"topics": [{"name", "topicId", "partitionCount", "replicationFactor", "configs", "partitions"}]} for --describe, ' +
    '{"created", "topic"} for --create, {"altered", "partitions"} for --alter and {"deleted"} for --delete.',
  examples: [
    ['--create --topic orders --partitions 3 --config retention.ms=86400000', 'a topic with 3 partitions that keeps records a day'],
    ['--list', "every topic's name"],
    ['--describe --topic orders', 'partitions, leaders, replicas and in-sync replicas'],
    ['--describe --under-replicated-partitions', 'partitions missing an in-sync replica'],
    ['--alter --topic orders --partitions 6', 'more partitions (keys move to other partitions)'],
    ['--delete --topic orders', 'delete a topic'],
  ],
});
