// kts transactions — Kafka's kafka-transactions.sh (TransactionsCommand): list the transactions the
// coordinators hold, describe one transactional id, describe a partition's producers, abort a transaction, find hanging ones. Kafka's script takes a command word after
// the global options: `kts transactions --bootstrap-server host:port list`.
import { defineTool } from '../src/cli/tool.js';

export default defineTool({
  name: 'transactions',
  kafkaName: 'kafka-transactions.sh',
  describe: 'List, describe and abort transactions, find hanging ones (list, describe, describe-producers, abort, find-hanging)',
  summary:
    'This tool is used to analyze the transactional state of producers in the cluster. It can be used to detect and recover from hanging transactions.\n' +
    'Commands: list [--duration-filter ms], describe --transactional-id id, describe-producers --topic t --partition p [--broker-id b], abort --topic t --partition p (--start-offset o | --producer-id id --producer-epoch e --coordinator-epoch c), find-hanging (--broker-id b | --topic t [--partition p]) [--max-transaction-timeout minutes].',
  runtimeError: { prefix: '', stream: 'stderr' },
  load: () => import('../src/cli/tools/transactions.js'),
  options: [
    { name: 'bootstrap-server', arg: 'required', argName: 'host:port', describe: 'hostname and port for the broker to connect to, in the form `host:port` (multiple comma-separated entries can be given). Default: the profile $KTS_PROFILE names, else $KTS_BOOTSTRAP_SERVER, else the profile in use (kts profile), else localhost:9092.' },
    { name: 'command-config', arg: 'required', argName: 'FILE', describe: 'property file containing configs to be passed to admin client' },
    { name: 'transactional-id', arg: 'required', argName: 'transactional id', describe: 'describe: the transactional id (required)' },
    { name: 'topic', arg: 'required', argName: 'topic', describe: 'abort, describe-producers: topic name (required); find-hanging: topic name to limit search to (required if --partition is specified)' },
    { name: 'partition', arg: 'required', argName: 'partition', type: 'int', describe: 'abort, describe-producers: partition number (required); find-hanging: partition number' },
    { name: 'start-offset', arg: 'required', argName: 'offset', type: 'long', describe: 'abort: start offset of the transaction to abort (the producer whose open transaction starts there)' },
    { name: 'broker-id', arg: 'required', argName: 'id', type: 'int', describe: 'describe-producers: the broker to ask (default: the partition leader); find-hanging: broker id to search for hanging transactions' },
    { name: 'max-transaction-timeout', arg: 'required', argName: 'minutes', type: 'int', describe: 'find-hanging: maximum transaction timeout in minutes to limit the scope of the search (15 minutes by default)' },
    { name: 'producer-id', arg: 'required', argName: 'id', type: 'long', describe: 'abort: producer id' },
    { name: 'producer-epoch', arg: 'required', argName: 'epoch', type: 'int', describe: 'abort: producer epoch' },
    { name: 'coordinator-epoch', arg: 'required', argName: 'epoch', type: 'int', describe: 'abort: coordinator epoch' },
    { name: 'duration-filter', arg: 'required', argName: 'ms', type: 'long', describe: 'list: Duration (in millis) to filter by: if < 0, all transactions will be returned; otherwise, only transactions running longer than this duration will be returned' },
  ],
  epilogue:
    'kts: --output json prints list: {"transactions": [{"transactionalId", "coordinator", "producerId", "state"}]}; ' +
    'describe-producers: {"producers": [{"producerId", "producerEpoch", "coordinatorEpoch", "lastSequence", "lastTimestamp", "currentTransactionStartOffset" (null if none)}]}; ' +
    'find-hanging: {"hangingTransactions": [{"topic", "partition", "producerId", "producerEpoch", "coordinatorEpoch", "startOffset", "lastTimestamp", "durationMinutes"}]}; ' +
    'describe: {"coordinatorId", "transactionalId", "producerId", "producerEpoch", "state", "transactionTimeoutMs", "transactionStartTimeMs" (null if none), "transactionDurationMs" (null if none), "topicPartitions": ["t-0"]}.',
  examples: [
    ['--bootstrap-server localhost:9092 list', 'the transactional ids the cluster knows'],
    ['--bootstrap-server localhost:9092 describe --transactional-id tx-1', "one transaction's state"],
  ],
});
