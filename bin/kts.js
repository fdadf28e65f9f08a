#!/usr/bin/env node
// The one binary. It is also reachable under Kafka's tool names (kafka-topics.sh, ...) via symlinks;
// src/cli/launch.ts looks at the name it was invoked by and loads that command's code. This file is
// CommonJS (bin/package.json): a tool then starts without Node's ES module loader.
require('../dist/cli/launch.cjs');
