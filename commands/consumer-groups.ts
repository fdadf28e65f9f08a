// kts consumer-groups — Kafka's kafka-consumer-groups.sh (ConsumerGroupCommand): list, describe
// and delete groups, reset and delete their committed offsets.
import { defineTool } from '../src/cli/tool.js';

export default defineTool({
  name: 'consumer-groups',
  kafkaName: 'kafka-consumer-groups.sh',
  describe: 'List, describe, delete consumer groups and reset their offsets',
  summary: 'This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets.',
  // Kafka prints run-time failures on stdout and still exits 0; run() handles that itself.
  runtimeError: { prefix: '\nError: Executing consumer group command failed due to ', stream: 'stdout' },
  load: () => import('../src/cli/consumer-groups/run.js'),
  options: [
    { name: 'bootstrap-server', arg: 'required', argName: 'server to connect to', describe: 'The server(s) to connect to. Default: the profile $KTS_PROFILE names, else $KTS_BOOTSTRAP_SERVER, else the profile in use (kts profile), else localhost:9092.' },
    { name: 'command-config', arg: 'required', argName: 'command config property file', describe: 'Property file containing configs to be passed to Admin Client and Consumer.' },
    { name: 'list', describe: 'List all consumer groups.' },
    { name: 'describe', describe: 'Describe consumer group and list offset lag (number of messages not yet processed) related to given group.' },
    { name: 'delete', describe: 'Pass in groups to delete topic partition offsets and ownership information over the entire consumer group. For instance --group g1 --group g2' },
    { name: 'reset-offsets', describe: 'Reset offsets of consumer group. Supports one consumer group at the time, and instances should be inactive. Has 2 execution options: --dry-run (the default) to plan which offsets to reset, and --execute to update the offsets. Additionally, the --export option is used to export the results to a CSV format. You must choose one of the following reset specifications: --to-datetime, --by-duration, --to-earliest, --to-latest, --shift-by, --from-file, --to-current, --to-offset. To define the scope use --all-topics or --topic. One scope must be specified unless you use \'--from-file\'.' },
    { name: 'delete-offsets', describe: 'Delete offsets of consumer group. Supports one consumer group at the time, and multiple topics.' },
    { name: 'group', arg: 'required', argName: 'consumer group', repeatable: true, describe: 'The consumer group we wish to act on.' },
    { name: 'all-groups', describe: 'Apply to all consumer groups.' },
    { name: 'topic', arg: 'required', argName: 'topic', repeatable: true, describe: 'The topic whose consumer group information should be deleted or topic whose should be included in the reset offset process. In `reset-offsets` case, partitions can be specified using this format: `topic1:0,1,2`, where 0,1,2 are the partition to be included in the process. Reset-offsets also supports multiple topic inputs.' },
    { name: 'all-topics', describe: 'Consider all topics assigned to a group in the `reset-offsets` process.' },
    { name: 'timeout', arg: 'required', type: 'long', argName: 'timeout (ms)', defaultValue: '5000', describe: 'The timeout that can be set for some use cases. For example, it can be used when describing the group to specify the maximum amount of time in milliseconds to wait before the group stabilizes (when the group is just created, or is going through some changes).' },
    { name: 'offsets', describe: 'Describe the group and list all topic partitions in the group along with their offset lag. This is the default sub-action of and may be used with \'--describe\' and \'--bootstrap-server\' options only.' },
    { name: 'members', describe: 'Describe members of the group. This option may be used with \'--describe\' and \'--bootstrap-server\' options only.' },
    { name: 'state', arg: 'optional', argName: 'String', describe: 'When specified with \'--describe\', includes the state of the group. When specified with \'--list\', it displays the state of all groups. It can also be used to list groups with specific states (e.g. --list --state stable,empty).' },
    { name: 'type', arg: 'optional', argName: 'String', describe: 'When specified with \'--list\', it displays the types of all the groups. It can also be used to list groups with specific types (classic,consumer).' },
    { name: 'verbose', describe: 'Provide additional information, if any, when describing the group (with --members: each member\'s assignment).' },
    { name: 'dry-run', describe: 'Only show results without executing changes on Consumer Groups. Supported operations: reset-offsets.' },
    { name: 'execute', describe: 'Execute operation. Supported operations: reset-offsets.' },
    { name: 'export', describe: 'Export operation execution to a CSV file. Supported operations: reset-offsets.' },
    { name: 'to-offset', arg: 'required', type: 'long', argName: 'offset', describe: 'Reset offsets to a specific offset.' },
    { name: 'to-earliest', describe: 'Reset offsets to earliest offset.' },
    { name: 'to-latest', describe: 'Reset offsets to latest offset.' },
    { name: 'to-current', describe: 'Reset offsets to current offset.' },
    { name: 'shift-by', arg: 'required', type: 'long', argName: 'number-of-offsets', describe: 'Reset offsets shifting current offset by \'n\', where \'n\' can be positive or negative.' },
    { name: 'to-datetime', arg: 'required', argName: 'datetime', describe: 'Reset offsets to offset from datetime. Format: \'YYYY-MM-DDTHH:mm:SS.sss\' (no zone: UTC).' },
    { name: 'by-duration', arg: 'required', argName: 'duration', describe: 'Reset offsets to offset by duration from current timestamp. Format: \'PnDTnHnMnS\'' },
    { name: 'from-file', arg: 'required', argName: 'path to CSV file', describe: 'Reset offsets to values defined in CSV file.' },
    { name: 'watch', arg: 'optional', type: 'double', argName: 'seconds', describe: 'kts: with --describe (offsets view), fetch the offsets again every <seconds> (default: 2) until Ctrl-C, with each partition\'s CONSUME-RATE (records/s committed, measured between the group\'s commits, so a consumer that commits every few seconds shows its real rate) and TIME-TO-ZERO-LAG (lag / (consume rate - produce rate, from the log-end offsets); "keeping-up" when the lag is only what arrived since the last commit, "∞" when the lag grows, "-" when unknown). A terminal gets a redrawn table; piped output one Kafka-style block per fetch with those two columns appended; --output json one JSON object per fetch and line.' },
    { name: 'kafka-text', arg: 'required', argName: '3.9|4.4', describe: 'kts: whose kafka-consumer-groups.sh text --describe prints when piped: 3.9 (the default, or $KTS_KAFKA_TEXT) or 4.4, which adds CURRENT-EPOCH, CURRENT-ASSIGNMENT (t:0,1;u:0), TARGET-EPOCH and TARGET-ASSIGNMENT to --members --verbose, GROUP-EPOCH and TARGET-ASSIGNMENT-EPOCH to --state --verbose, LEADER-EPOCH to --offsets --verbose, and lays out --state with its own widths.' },
    { name: 'strict', describe: 'kts: exit 1 when the command fails or reports an error (Kafka\'s tool exits 0 after printing "Error: ...").' },
  ],
  epilogue:
    'kts: --output json prints one document: {"groups":[...]} for --list and --describe (offsets, members or state per group), ' +
    '{"groups":[{"group","offsets":[{"topic","partition","offset"}],"executed"}]} for --reset-offsets, ' +
    '{"deleted":[...],"failed":[{"group","error"}]} for --delete and {"group","error","partitions":[...]} for --delete-offsets. ' +
    'With --describe --watch: one object per fetch and line, {"time","intervalSeconds","groups":[{"group","state","offsets":[...]}]}, ' +
    'each offset with consumeRate, produceRate (records/s), timeToZeroLag (s), lagGrowing and keepingUp. --watch stops on Ctrl-C (exit 0) or SIGTERM (143).',
  examples: [
    ['--list', 'every group'],
    ['--describe --group billing', 'offsets and lag per partition'],
    ['--describe --group billing --watch', 'lag, rates and time to zero lag, refreshed every 2 s'],
    ['--reset-offsets --group billing --topic orders --to-earliest --execute', 'start the group over (its consumers stopped)'],
  ],
});
