// kts get-offsets — Kafka's kafka-get-offsets.sh (GetOffsetShell): topic:partition:offset lines.
import { defineTool } from '../src/cli/tool.js';

export default defineTool({
  name: 'get-offsets',
  kafkaName: 'kafka-get-offsets.sh',
  describe: 'Print the offsets of topic partitions at a given time',
  summary: 'Prints the offsets of topic partitions.',
  runtimeError: { prefix: 'Error occurred: ', stream: 'stderr' },
  load: () => import('../src/cli/tools/get-offsets.js'),
  options: [
    { name: 'bootstrap-server', arg: 'required', argName: 'HOST1:PORT1,...,HOST3:PORT3', describe: 'The broker(s) to connect to. Default: the profile $KTS_PROFILE names, else $KTS_BOOTSTRAP_SERVER, else the profile in use (kts profile), else localhost:9092.' },
    { name: 'broker-list', arg: 'required', argName: 'HOST1:PORT1,...,HOST3:PORT3', describe: 'Deprecated spelling of --bootstrap-server.' },
    { name: 'topic-partitions', arg: 'required', argName: 'topic1:1,topic2:0-3,topic3,topic4:5-,topic5:-3', describe: 'Comma-separated patterns topic-regex[:partitions]; partitions are N, N-M (M excluded), N- or -M; no topic part means every topic. Not with --topic/--partitions.' },
    { name: 'topic', arg: 'required', argName: 'topic', describe: 'Topic name or regular expression (default: every topic).' },
    { name: 'partitions', arg: 'required', argName: 'partition ids', describe: 'Comma-separated partition ids (default: all).' },
    { name: 'time', arg: 'required', argName: '<timestamp> / -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered', defaultValue: 'latest', describe: 'Which offset: latest, earliest, the one of the record with the largest timestamp, or the first offset whose timestamp is at or after an epoch-ms time (partitions without one are left out).' },
    { name: 'command-config', arg: 'required', argName: 'config file', describe: 'A properties file of admin client settings.' },
    { name: 'exclude-internal-topics', describe: 'Leave out internal topics.' },
  ],
  epilogue: 'kts: --output json prints {"offsets": [{"topic", "partition", "offset"}]}.',
  examples: [
    ['--topic orders', "each partition's log-end offset"],
    ['--topic orders --time earliest', "each partition's first offset"],
    ['--topic orders --time 1735689600000', 'the first offset at or after a time (epoch ms)'],
  ],
});
