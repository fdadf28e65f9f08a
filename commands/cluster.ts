// kts cluster — not a Kafka tool (rpk's `cluster info` is the model): the cluster at a glance.
import { defineTool } from '../src/cli/tool.js';

export default defineTool({
  name: 'cluster',
  kafkaName: 'kts-cluster',
  describe: 'Show the cluster: id, controller, brokers, topic and partition counts, partitions in trouble',
  summary: 'Shows the cluster id, the controller, every broker (id, address, rack), how many topics and partitions there are, and which partitions are under-replicated or offline.',
  runtimeError: { prefix: 'Error: ', stream: 'stderr' },
  load: () => import('../src/cli/tools/cluster.js'),
  options: [
    { name: 'bootstrap-server', arg: 'required', argName: 'server to connect to', describe: 'The broker(s) to connect to, host:port[,host:port]. Default: the profile $KTS_PROFILE names, else $KTS_BOOTSTRAP_SERVER, else the profile in use (kts profile), else localhost:9092.' },
    { name: 'command-config', arg: 'required', argName: 'command config property file', describe: 'A properties file of admin client settings.' },
  ],
  epilogue:
    'Piped, it prints a CLUSTER section (id, controller, counts) and a BROKERS table (the controller marked *), and one line per under-replicated or offline partition. ' +
    'kts: --output json prints {"clusterId", "controllerId", "brokers": [{"id", "host", "port", "rack", "controller"}], "topics", "internalTopics", "partitions", ' +
    '"underReplicated": [{"topic", "partition", "replicas", "isr"}], "offline": [{"topic", "partition", "replicas"}]}.',
  examples: [
    ['', 'the cluster at localhost:9092 (or $KTS_BOOTSTRAP_SERVER)'],
    ['--bootstrap-server localhost:9092,localhost:9093 --output json', 'the same as one JSON document'],
  ],
});
