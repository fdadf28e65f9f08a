// kts reassign-partitions — Kafka's kafka-reassign-partitions.sh (ReassignPartitionsCommand): plan,
// start, check, cancel and list partition reassignments (KIP-455).
import { defineTool } from '../src/cli/tool.js';

export default defineTool({
  name: 'reassign-partitions',
  kafkaName: 'kafka-reassign-partitions.sh',
  describe: 'Move partition replicas between brokers',
  summary: 'This tool helps to move topic partitions between replicas.',
  // Kafka prints "Error: <message>" (and a stack trace) on stdout and exits 1.
  runtimeError: { prefix: 'Error: ', stream: 'stdout' },
  load: () => import('../src/cli/tools/reassign-partitions.js'),
  options: [
    { name: 'verify', describe: 'Verify if the reassignment completed as specified by the --reassignment-json-file option. If there is a throttle engaged for the replicas specified, and the rebalance has completed, the throttle will be removed' },
    { name: 'generate', describe: 'Generate a candidate partition reassignment configuration. Note that this only generates a candidate assignment, it does not execute it.' },
    { name: 'execute', describe: 'Kick off the reassignment as specified by the --reassignment-json-file option.' },
    { name: 'cancel', describe: 'Cancel an active reassignment.' },
    { name: 'list', describe: 'List all active partition reassignments.' },
    { name: 'bootstrap-server', arg: 'required', argName: 'Server(s) to use for bootstrapping', describe: 'The server(s) to use for bootstrapping. Default: the profile $KTS_PROFILE names, else $KTS_BOOTSTRAP_SERVER, else the profile in use (kts profile), else localhost:9092.' },
    { name: 'command-config', arg: 'required', argName: 'Admin client property file', describe: 'Property file containing configs to be passed to Admin Client.' },
    { name: 'reassignment-json-file', arg: 'required', argName: 'manual assignment json file path', describe: 'The JSON file with the partition reassignment configuration: {"partitions": [{"topic": "foo", "partition": 1, "replicas": [1,2,3], "log_dirs": ["any","any","any"]}], "version": 1}. "log_dirs" is optional; kts accepts only "any" in it.' },
    { name: 'topics-to-move-json-file', arg: 'required', argName: 'topics to reassign json file path', describe: 'Generate a reassignment configuration to move the partitions of the specified topics to the list of brokers specified by the --broker-list option: {"topics": [{"topic": "foo"},{"topic": "foo1"}], "version": 1}' },
    { name: 'broker-list', arg: 'required', argName: 'brokerlist', describe: 'The list of brokers to which the partitions need to be reassigned in the form "0,1,2". This is required if --topics-to-move-json-file is used to generate reassignment configuration' },
    { name: 'disable-rack-aware', describe: 'Disable rack aware replica assignment' },
    { name: 'throttle', arg: 'required', type: 'long', defaultValue: '-1', argName: 'throttle', describe: 'The movement of partitions between brokers will be throttled to this value (bytes/sec). kts records the throttle configs as Kafka does but does not apply them (replication runs unthrottled).' },
    { name: 'replica-alter-log-dirs-throttle', arg: 'required', type: 'long', defaultValue: '-1', argName: 'replicaAlterLogDirsThrottle', describe: 'The movement of replicas between log directories on the same broker will be throttled to this value (bytes/sec). Recorded, not applied.' },
    { name: 'timeout', arg: 'required', type: 'long', defaultValue: '10000', argName: 'timeout', describe: 'The maximum time in ms to wait for log directory replica assignment to begin.' },
    { name: 'additional', describe: 'Execute this reassignment in addition to any other ongoing ones. This option can also be used to change the throttle of an ongoing reassignment.' },
    { name: 'preserve-throttles', describe: 'Do not modify broker or topic throttles.' },
  ],
  epilogue:
    'kts: --output json prints {"current": Assignment[], "proposed": Assignment[]} (--generate), {"current": Assignment[], "started": string[]} (--execute), ' +
    '{"partitions": [{"partition": string, "state": "completed" | "in-progress" | "different", "replicas": number[], "target": number[]}]} (--verify), ' +
    '{"cancelled": string[]} (--cancel), {"reassignments": [{"partition", "replicas", "adding", "removing"}]} (--list); Assignment = {"topic", "partition", "replicas"}.',
  examples: [
    ['--generate --topics-to-move-json-file topics.json --broker-list 1,2', "a plan moving the topics' replicas to brokers 1 and 2"],
    ['--execute --reassignment-json-file plan.json', 'start the moves (prints the plan to roll back)'],
    ['--verify --reassignment-json-file plan.json', 'whether the moves are done'],
    ['--list', 'the moves in progress'],
  ],
});
