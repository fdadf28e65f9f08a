// The TypeScript side of the streams benchmark: the WordCount topology of test/e2e/streams/fixtures
// (the one checked against Kafka Streams 4.4), loaded from the bench's private snapshot of dist/.
// Usage: node wordcount-app.mjs <dist/streams.js> <bootstrap> <application.id> <output topic> <state.dir>
const [modulePath, bootstrap, appId, output, stateDir] = process.argv.slice(2);
const { KafkaStreams, Produced, Serdes, StreamsBuilder } = await import(modulePath);

/** Java's String#split(" "): trailing empty strings dropped. */
function javaSplit(s) {
  const parts = s.split(' ');
  if (parts.length === 1) return parts;
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

const builder = new StreamsBuilder();
builder
  .stream('streams-plaintext-input')
  .flatMapValues((value) => javaSplit(value.toLowerCase()))
  .groupBy((_key, word) => word)
  .count()
  .toStream()
  .to(output, Produced.with(Serdes.String(), Serdes.Long()));

const streams = new KafkaStreams(builder.build(), { 'application.id': appId, 'bootstrap.servers': bootstrap, 'commit.interval.ms': 100, 'state.dir': stateDir });
streams.setUncaughtExceptionHandler((err) => {
  console.error(`failed: ${err.stack ?? err}`);
  process.exit(2);
});
process.on('SIGTERM', () => streams.close().then(() => process.exit(0)));
await streams.start();
console.log('RUNNING');
