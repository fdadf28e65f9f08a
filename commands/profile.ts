// kts profile — named connection profiles (rpk's `rpk profile`): a bootstrap list and client
// settings (a --command-config file, security properties) that every tool uses when it is given no
// --bootstrap-server. No Kafka script matches it.
import { defineTool } from '../src/cli/tool.js';

export default defineTool({
  name: 'profile',
  kafkaName: 'kts profile',
  describe: 'Keep named connection profiles (bootstrap servers, security settings) the tools use by default',
  summary:
    'Keep named connection profiles: the cluster and client settings every kts tool uses when it is given no --bootstrap-server.\n' +
    'Commands: add <name> --bootstrap-server host:port [--command-config file] [--property k=v ...] [--use], list, use <name> (or --none), remove <name>.',
  runtimeError: { prefix: '', stream: 'stderr' },
  outputs: ['plain', 'table', 'json'],
  load: () => import('../src/cli/tools/profile.js'),
  options: [
    { name: 'bootstrap-server', arg: 'required', argName: 'host:port[,host:port]', describe: 'add: the cluster the profile reaches (required: neither $KTS_BOOTSTRAP_SERVER nor a profile is a default here).' },
    { name: 'command-config', arg: 'required', argName: 'file', describe: 'add: a client properties file (security.protocol, sasl.*, ssl.*), read each time the profile is used; kept as an absolute path.' },
    { name: 'property', arg: 'required', argName: 'key=value', repeatable: true, describe: 'add: a client property kept in the profile itself (repeatable); wins over the --command-config file.' },
    { name: 'use', describe: 'add: also make the new profile the one in use.' },
    { name: 'replace', describe: 'add: replace a profile of the same name.' },
    { name: 'none', describe: 'use: stop using a profile (the tools go back to $KTS_BOOTSTRAP_SERVER, else localhost:9092).' },
  ],
  epilogue:
    'Which cluster a tool reaches: --bootstrap-server; else the profile $KTS_PROFILE names; else $KTS_BOOTSTRAP_SERVER; else the profile in use (kts profile use); else localhost:9092. ' +
    "A tool's own --command-config settings win over the profile's. Profiles are kept in $KTS_CONFIG_DIR, else $XDG_CONFIG_HOME/kts, else ~/.config/kts (profiles.json, readable by you only: it may hold passwords). " +
    'kts: --output json prints list: {"current", "profiles": [{"name", "current", "bootstrapServers", "commandConfig", "properties"}]} (secret values shown as "[hidden]"); add, use and remove: {"profile", "current"}.',
  examples: [
    ['add local --bootstrap-server localhost:9092 --use', 'a profile for a broker on this machine, used from now on'],
    ['add prod --bootstrap-server kafka-1:9093,kafka-2:9093 --command-config ~/prod-client.properties', 'a cluster behind TLS and SASL'],
    ['add ci --bootstrap-server ci:9092 --property security.protocol=SASL_PLAINTEXT --property sasl.mechanism=PLAIN --property \'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="ci" password="ci-secret";\'', 'security settings kept in the profile'],
    ['list', 'the profiles, the one in use marked *'],
    ['use prod', 'make the tools reach prod by default (KTS_PROFILE=prod does it for one shell)'],
    ['remove prod', 'forget a profile'],
  ],
});
