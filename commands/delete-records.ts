// kts delete-records — Kafka's kafka-delete-records.sh: move partitions' log start forward.
import { defineTool } from '../src/cli/tool.js';

export default defineTool({
  name: 'delete-records',
  kafkaName: 'kafka-delete-records.sh',
  describe: 'Delete records of partitions up to given offsets',
  summary: 'Deletes the records of partitions before the given offsets.',
  runtimeError: { prefix: '', stream: 'stderr' },
  load: () => import('../src/cli/tools/delete-records.js'),
  options: [
    { name: 'bootstrap-server', arg: 'required', argName: 'server(s) to use for bootstrapping', describe: 'The broker(s) to connect to. Default: the profile $KTS_PROFILE names, else $KTS_BOOTSTRAP_SERVER, else the profile in use (kts profile), else localhost:9092.' },
    { name: 'offset-json-file', arg: 'required', argName: 'Offset json file path', describe: 'REQUIRED: {"partitions": [{"topic": "t", "partition": 0, "offset": 3}], "version": 1}; offset -1 means the high watermark.' },
    { name: 'command-config', arg: 'required', argName: 'command config property file path', describe: 'A properties file of admin client settings.' },
  ],
  epilogue: 'kts: --output json prints {"partitions": [{"topic", "partition", "lowWatermark"} or {"topic", "partition", "error"}]}.',
  examples: [
    ['--offset-json-file delete.json', 'delete records before the offsets in the file ({"partitions":[{"topic":"orders","partition":0,"offset":100}],"version":1})'],
  ],
});
