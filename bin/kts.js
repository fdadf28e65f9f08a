#!/usr/bin/env node
// The one binary. It is also reachable under Kafka's tool names (kafka-topics.sh, ...) via symlinks;
// src/cli/main.ts looks at the name it was invoked by.
import '../dist/main.js';
