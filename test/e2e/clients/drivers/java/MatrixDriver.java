// The Java client (kafka-clients 4.4) driver of the client matrix (protocol.md), compiled by
// scripts/fetch-clients.mjs against Kafka 4.4's jars; JSON through the Jackson those jars carry.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class MatrixDriver {
  static final ObjectMapper JSON = new ObjectMapper();
  static JsonNode c;

  static void emit(String event, Map<String, Object> fields) throws Exception {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("event", event);
    out.putAll(fields);
    System.out.println(JSON.writeValueAsString(out));
    System.out.flush();
  }

  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  static byte[] fromHex(JsonNode n) {
    if (n == null || n.isNull()) return null;
    return HexFormat.of().parseHex(n.asText());
  }

  static String toHex(byte[] b) {
    return b == null ? null : HexFormat.of().formatHex(b);
  }

  static Properties base() {
    Properties p = new Properties();
    p.put("bootstrap.servers", c.get("bootstrap").asText());
    p.put("client.id", "matrix-java");
    return p;
  }

  static String topic() {
    return c.get("topic").asText();
  }

  static void produceAll(List<ProducerRecord<byte[], byte[]>> records, Properties extra) throws Exception {
    Properties p = base();
    p.put("acks", "all");
    p.put("linger.ms", "20");
    p.putAll(extra);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
      for (ProducerRecord<byte[], byte[]> r : records) sent.add(producer.send(r));
      for (var f : sent) f.get(30, TimeUnit.SECONDS);
    }
  }

  static KafkaConsumer<byte[], byte[]> consumer(Properties extra) {
    Properties p = base();
    p.putAll(extra);
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  static List<ConsumerRecord<byte[], byte[]>> readFromStart(int count) {
    Properties p = new Properties();
    p.put("enable.auto.commit", "false");
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(p)) {
      TopicPartition tp = new TopicPartition(topic(), 0);
      consumer.assign(List.of(tp));
      consumer.seek(tp, 0);
      List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 60_000;
      while (out.size() < count && System.currentTimeMillis() < deadline) consumer.poll(Duration.ofMillis(500)).forEach(out::add);
      if (out.size() < count) throw new IllegalStateException("read " + out.size() + " of " + count);
      return out.subList(0, count);
    }
  }

  public static void main(String[] args) throws Exception {
    String scenario = args[0];
    c = JSON.readTree(args.length > 1 ? args[1] : "{}");
    try {
      run(scenario);
      System.exit(0);
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(1);
    }
  }

  static void run(String scenario) throws Exception {
    switch (scenario) {
      case "version" -> emit("result", map("version", AppInfoParserVersion.get()));
      case "metadata" -> {
        try (Admin admin = Admin.create(base())) {
          List<Object> brokers = new ArrayList<>();
          for (Node n : admin.describeCluster().nodes().get()) brokers.add(map("id", n.id(), "host", n.host(), "port", n.port()));
          List<Object> partitions = new ArrayList<>();
          for (TopicPartitionInfo p : admin.describeTopics(List.of(topic())).allTopicNames().get().get(topic()).partitions())
            partitions.add(map("partition", p.partition(), "leader", p.leader().id()));
          emit("result", map("brokers", brokers, "partitions", partitions));
        }
      }
      case "produce" -> {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (JsonNode r : c.get("records")) {
          List<Header> headers = new ArrayList<>();
          for (JsonNode h : r.get("headers")) headers.add(new RecordHeader(h.get(0).asText(), fromHex(h.get(1))));
          records.add(new ProducerRecord<>(topic(), 0, fromHex(r.get("key")), fromHex(r.get("value")), headers));
        }
        produceAll(records, new Properties());
        emit("result", map());
      }
      case "fetch" -> {
        List<Object> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> m : readFromStart(c.get("count").asInt())) {
          List<Object> headers = new ArrayList<>();
          for (Header h : m.headers()) headers.add(List.of(h.key(), toHex(h.value())));
          out.add(map("offset", m.offset(), "timestamp", m.timestamp(), "key", toHex(m.key()), "value", toHex(m.value()), "headers", headers));
        }
        emit("result", map("records", out));
      }
      case "offsets" -> {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(new Properties())) {
          TopicPartition tp = new TopicPartition(topic(), 0);
          long earliest = consumer.beginningOffsets(List.of(tp)).get(tp);
          long latest = consumer.endOffsets(List.of(tp)).get(tp);
          List<Object> byTime = new ArrayList<>();
          for (JsonNode t : c.get("times")) {
            OffsetAndTimestamp found = consumer.offsetsForTimes(Map.of(tp, t.asLong())).get(tp);
            byTime.add(found == null ? null : found.offset());
          }
          emit("result", map("earliest", earliest, "latest", latest, "byTime", byTime));
        }
      }
      case "group" -> group();
      case "admin" -> {
        try (Admin admin = Admin.create(base())) {
          admin.createTopics(List.of(new NewTopic(topic(), 3, (short) 1))).all().get();
          int partitions = admin.describeTopics(List.of(topic())).allTopicNames().get().get(topic()).partitions().size();
          admin.deleteTopics(List.of(topic())).all().get();
          emit("result", map("partitions", partitions));
        }
      }
      case "codec" -> {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (JsonNode v : c.get("values")) records.add(new ProducerRecord<>(topic(), 0, null, v.asText().getBytes("UTF-8")));
        Properties p = new Properties();
        p.put("compression.type", c.get("codec").asText());
        produceAll(records, p);
        List<Object> values = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> m : readFromStart(records.size())) values.add(new String(m.value(), "UTF-8"));
        emit("result", map("values", values));
      }
      case "idempotent" -> {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (JsonNode v : c.get("values")) records.add(new ProducerRecord<>(topic(), 0, null, fromHex(v)));
        Properties p = new Properties();
        p.put("enable.idempotence", "true");
        produceAll(records, p);
        emit("result", map());
      }
      default -> throw new IllegalArgumentException("unknown scenario " + scenario);
    }
  }

  static void group() throws Exception {
    Properties p = new Properties();
    p.put("group.id", c.get("group").asText());
    p.put("group.protocol", c.get("protocol").asText());
    p.put("auto.offset.reset", "earliest");
    p.put("enable.auto.commit", "false");
    if (c.get("protocol").asText().equals("classic")) {
      p.put("session.timeout.ms", "6000");
      p.put("heartbeat.interval.ms", "500");
    }
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(p)) {
      consumer.subscribe(List.of(topic()));
      String last = null;
      while (true) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
        for (ConsumerRecord<byte[], byte[]> r : records) emit("record", map("partition", r.partition(), "offset", r.offset()));
        if (!records.isEmpty()) consumer.commitSync();
        List<Integer> now = new ArrayList<>();
        for (TopicPartition tp : consumer.assignment()) now.add(tp.partition());
        Collections.sort(now);
        if (!now.toString().equals(last)) {
          last = now.toString();
          emit("assigned", map("partitions", now));
        }
      }
    }
  }

  /** kafka-clients' own version string (AppInfoParser reads it from the jar). */
  static class AppInfoParserVersion {
    static String get() {
      return org.apache.kafka.common.utils.internals.AppInfoParser.getVersion();
    }
  }
}
