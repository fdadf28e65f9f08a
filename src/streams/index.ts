// kts-kafka/streams: Kafka Streams for TypeScript, with Kafka Streams' names.
//
//   import { StreamsBuilder, KafkaStreams, Serdes, Produced } from 'kts-kafka/streams';
//   const builder = new StreamsBuilder();
//   builder.stream('streams-plaintext-input')
//     .flatMapValues((line) => line.toLowerCase().split(/\W+/))
//     .groupBy((_key, word) => word)
//     .count()
//     .toStream()
//     .to('streams-wordcount-output', Produced.with(Serdes.String(), Serdes.Long()));
//   const streams = new KafkaStreams(builder.build(), { 'application.id': 'wordcount', 'bootstrap.servers': 'localhost:9092' });
//   await streams.start();
export { StreamsBuilder, KStream, KTable, KGroupedStream, BranchedKStream, TimeWindowedKStream, Suppressed, KeyValue, type Change, type KeyValuePair, type ValueMapper, type ValueMapperWithKey } from './dsl.js';
export { JoinWindows, Joined, StreamJoined, type ValueJoiner, type ValueJoinerWithKey } from './joins.js';
export { GlobalKTable } from './globals.js';
export { TimeWindows, WindowedSerdes, type Window, type Windowed } from './windows.js';
export { SessionWindows, SessionWindowedKStream, type SessionMerger } from './session-windows.js';
export { SlidingWindows, SlidingWindowedKStream } from './sliding-windows.js';
export { Branched, Consumed, Grouped, Materialized, Named, Produced, Repartitioned } from './options.js';
export { Serdes, SerializationException, type Serde, type Serializer, type Deserializer } from './serdes.js';
export { Topology, TopologyException, type StreamPartitioner, type TopicNameExtractor } from './topology.js';
export { type Header, type KeyValueStore, type ReadOnlyKeyValueStore, type Processor, type ProcessorContext, type ProcessorSupplier, type RecordMetadata, type StoreBuilder, type StreamRecord, type KeyValueBytesStoreSupplier, type WindowBytesStoreSupplier, type SessionBytesStoreSupplier } from './processor.js';
import { Stores as KeyValueStores } from './processor.js';
import { WindowStoreBuilders } from './persistent-window-store.js';
/** Kafka's Stores: key-value, window and session store suppliers, and their builders. */
export const Stores = { ...KeyValueStores, ...WindowStoreBuilders };
export { type ReadOnlyWindowStore, type ReadOnlySessionStore, type ValueAndTimestamp } from './window-store.js';
export { TopologyTestDriver, TestInputTopic, TestOutputTopic, type TestRecord } from './test-driver.js';
export { KafkaStreams, QueryableStoreTypes, StreamsConfigException, type QueryableStoreType, type StateRestoreListener, type StreamsState } from './kafka-streams.js';
export { MissingSourceTopicException } from './internal-topics.js';
