// kts leader-election — Kafka's kafka-leader-election.sh (LeaderElectionCommand): preferred or
// unclean leader election through ElectLeaders.
import { defineTool } from '../src/cli/tool.js';

export default defineTool({
  name: 'leader-election',
  kafkaName: 'kafka-leader-election.sh',
  describe: 'Elect preferred or unclean leaders of partitions',
  summary: 'This tool attempts to elect a new leader for a set of topic partitions. The type of elections supported are preferred replicas and unclean replicas.',
  runtimeError: { prefix: '', stream: 'stderr' },
  load: () => import('../src/cli/tools/leader-election.js'),
  options: [
    { name: 'bootstrap-server', arg: 'required', argName: 'host:port', describe: 'A hostname and port for the broker to connect to, in the form host:port. Multiple comma separated URLs can be given. REQUIRED (or $KTS_BOOTSTRAP_SERVER, or a profile: kts profile).' },
    { name: 'admin.config', arg: 'required', argName: 'config file', describe: 'Configuration properties files to pass to the admin client' },
    { name: 'path-to-json-file', arg: 'required', argName: 'Path to JSON file', describe: 'The JSON file with the list of partitions for which leader elections should be performed: {"partitions": [{"topic": "foo", "partition": 1}]}. Not allowed if --all-topic-partitions or --topic flags are specified.' },
    { name: 'topic', arg: 'required', argName: 'topic name', describe: 'Name of topic for which to perform an election. Not allowed if --path-to-json-file or --all-topic-partitions is specified.' },
    { name: 'partition', arg: 'required', argName: 'partition id', type: 'int', describe: 'Partition id for which to perform an election. REQUIRED if --topic is specified.' },
    { name: 'all-topic-partitions', describe: 'Perform election on all of the eligible topic partitions based on the type of election (see the --election-type flag). Not allowed if --topic or --path-to-json-file is specified.' },
    { name: 'election-type', arg: 'required', argName: 'election type', describe: 'Type of election to attempt: "preferred" (only where the current leader is not the preferred replica) or "unclean" (only where the partition has no leader). REQUIRED.' },
  ],
  epilogue: 'kts: --output json prints {"electionType", "succeeded": ["t-0"], "notNeeded": [...], "failed": [{"partition", "error"}]}.',
  examples: [
    ['--bootstrap-server localhost:9092 --election-type preferred --all-topic-partitions', 'give every partition back to its preferred leader'],
    ['--bootstrap-server localhost:9092 --election-type preferred --topic orders --partition 0', 'one partition'],
  ],
});
