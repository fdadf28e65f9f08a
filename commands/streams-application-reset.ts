// kts streams-application-reset — Kafka's kafka-streams-application-reset.sh: rewind a Streams
// application's input topics, skip its intermediate topics to the end, delete its internal topics.
import { defineTool } from '../src/cli/tool.js';

export default defineTool({
  name: 'streams-application-reset',
  kafkaName: 'kafka-streams-application-reset.sh',
  describe: "Reset a Kafka Streams application's offsets and delete its internal topics",
  summary:
    'This tool helps to quickly reset an application in order to reprocess its data from scratch. It resets the offsets of input topics (to the earliest by default), ' +
    'moves intermediate topics to their end and deletes the internal topics the application created (topics starting with "<application.id>-"). ' +
    'It deletes no output topic and no local state: call KafkaStreams#cleanUp() or delete state.dir/<application.id> yourself. Run it once with --dry-run first.',
  // Kafka prints failures as "ERROR: <exception>" on stderr.
  runtimeError: { prefix: 'ERROR: ', stream: 'stderr' },
  outputs: ['plain'],
  load: () => import('../src/cli/tools/streams-application-reset.js'),
  options: [
    { name: 'application-id', arg: 'required', argName: 'id', describe: 'REQUIRED: The Kafka Streams application ID (application.id).' },
    { name: 'bootstrap-server', arg: 'required', argName: 'server to connect to', describe: 'The server(s) to connect to. Default: the profile $KTS_PROFILE names, else $KTS_BOOTSTRAP_SERVER, else the profile in use (kts profile), else localhost:9092.' },
    { name: 'by-duration', arg: 'required', describe: "Reset offsets to offset by duration from current timestamp. Format: 'PnDTnHnMnS'" },
    { name: 'command-config', arg: 'required', argName: 'file name', describe: 'Config properties file to be passed to admin clients and embedded consumer.' },
    { name: 'config-file', arg: 'required', argName: 'file name', describe: '(DEPRECATED) The same as --command-config.' },
    { name: 'dry-run', describe: 'Display the actions that would be performed without executing the reset commands.' },
    { name: 'force', describe: 'Force the removal of members of the consumer group (intended to remove stopped members if a long session timeout was used). Make sure to shut down all stream applications first.' },
    { name: 'from-file', arg: 'required', describe: 'Reset offsets to values defined in CSV file (TOPIC,PARTITION,OFFSET lines).' },
    { name: 'input-topics', arg: 'required', argName: 'list', describe: 'Comma-separated list of user input topics, reset to the earliest offset unless another reset option is given.' },
    { name: 'intermediate-topics', arg: 'required', argName: 'list', describe: '[deprecated] Comma-separated list of intermediate user topics (topics that are input and output topics): skipped to the end.' },
    { name: 'internal-topics', arg: 'required', argName: 'list', describe: 'Comma-separated list of internal topics to delete: a subset of those a dry run lists.' },
    { name: 'shift-by', arg: 'required', type: 'long', argName: 'number-of-offsets', describe: "Reset offsets shifting current offset by 'n', where 'n' can be positive or negative" },
    { name: 'to-datetime', arg: 'required', describe: "Reset offsets to offset from datetime. Format: 'YYYY-MM-DDThh:mm:ss.sss'" },
    { name: 'to-earliest', describe: 'Reset offsets to earliest offset.' },
    { name: 'to-latest', describe: 'Reset offsets to latest offset.' },
    { name: 'to-offset', arg: 'required', type: 'long', describe: 'Reset offsets to a specific offset.' },
  ],
  examples: [
    ['--application-id wordcount --input-topics streams-plaintext-input --dry-run', 'show what a reset of the WordCount app would do'],
    ['--application-id wordcount --input-topics streams-plaintext-input --to-offset 100', 'reprocess the input from offset 100 and delete the internal topics'],
  ],
});
