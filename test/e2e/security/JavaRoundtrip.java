// The Java client (kafka-clients 4.4) over a secured listener: produce the given values to partition
// 0, then read them back from the beginning in a consumer group. argv[0]: JSON {bootstrap, topic,
// values, conf (the Java client's own keys), token (optional: an OAUTHBEARER token to send as is),
// spreadMs (optional: send the values one by one over that long, KIP-368's re-authentication test)}.
// Prints {"consumed": [...], "producer": {metric: value}} or {"error": "..."} and exits 0 or 2. Compiled by
// scripts/fetch-clients.mjs against Kafka 4.4's jars; JSON through the Jackson those jars carry.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.TimeUnit;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class JavaRoundtrip {
  static final ObjectMapper JSON = new ObjectMapper();

  /** Hands the client the token the test made (an expired one, say), where its own handler would make a fresh one. */
  public static class GivenToken implements AuthenticateCallbackHandler {
    static String token;

    @Override
    public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> entries) {}

    @Override
    public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
      for (Callback cb : callbacks) {
        if (!(cb instanceof OAuthBearerTokenCallback)) throw new UnsupportedCallbackException(cb);
        JsonNode claims;
        try {
          claims = JSON.readTree(Base64.getUrlDecoder().decode(token.split("\\.")[1]));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        long exp = (long) (claims.get("exp").asDouble() * 1000);
        long iat = (long) (claims.get("iat").asDouble() * 1000);
        String sub = claims.get("sub").asText();
        ((OAuthBearerTokenCallback) cb).token(new OAuthBearerToken() {
          public String value() { return token; }
          public Set<String> scope() { return Set.of(); }
          public long lifetimeMs() { return exp; }
          public String principalName() { return sub; }
          public Long startTimeMs() { return iat; }
        });
      }
    }

    @Override
    public void close() {}
  }

  static void print(Map<String, Object> out, int code) throws Exception {
    System.out.println(JSON.writeValueAsString(out));
    System.out.flush();
    System.exit(code);
  }

  public static void main(String[] args) throws Exception {
    JsonNode spec = JSON.readTree(args[0]);
    String topic = spec.get("topic").asText();
    List<String> values = new ArrayList<>();
    spec.get("values").forEach((v) -> values.add(v.asText()));
    Properties base = new Properties();
    spec.get("conf").fields().forEachRemaining((e) -> base.put(e.getKey(), e.getValue().asText()));
    base.put("bootstrap.servers", spec.get("bootstrap").asText());
    if (spec.hasNonNull("token")) {
      GivenToken.token = spec.get("token").asText();
      base.put("sasl.login.callback.handler.class", GivenToken.class.getName());
    }
    try {
      Properties p = new Properties();
      p.putAll(base);
      p.put("acks", "all");
      // Generous bounds: on a loaded 2-core machine (load 30-40, other suites beside this one) the JVM
      // gets a sliver of a core, and one CI run saw "Topic ... not present in metadata after 10000 ms"
      // from a client that had not finished its first metadata round trip. A refused login still fails
      // at once (authentication errors are not retried), so these only bound how long a failure takes.
      p.put("max.block.ms", "40000");
      p.put("delivery.timeout.ms", "60000");
      p.put("request.timeout.ms", "30000");
      long spreadMs = spec.hasNonNull("spreadMs") ? spec.get("spreadMs").asLong() : 0;
      Map<String, Object> producerMetrics = new TreeMap<>();
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
        List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
        for (String v : values) {
          var f = producer.send(new ProducerRecord<>(topic, 0, null, v));
          sent.add(f);
          // Spread out, each acknowledged before the next: the client re-authenticates on its next send
          // after 85-95% of the session lifetime the broker gave it.
          if (spreadMs > 0) {
            f.get(60, TimeUnit.SECONDS);
            Thread.sleep(spreadMs / values.size());
          }
        }
        for (var f : sent) f.get(60, TimeUnit.SECONDS);
        for (var e : producer.metrics().entrySet()) {
          String name = e.getKey().name();
          if (e.getKey().group().equals("producer-metrics") && (name.contains("reauthentication") || name.equals("connection-close-total") || name.equals("connection-creation-total"))) {
            producerMetrics.put(name, e.getValue().metricValue());
          }
        }
      }
      Properties c = new Properties();
      c.putAll(base);
      c.put("group.id", topic + "-java");
      c.put("group.protocol", "consumer");
      c.put("auto.offset.reset", "earliest");
      c.put("enable.auto.commit", "false");
      List<String> got = new ArrayList<>();
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of(topic));
        long deadline = System.currentTimeMillis() + 60_000;
        while (got.size() < values.size() && System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) got.add(r.value());
        }
      }
      print(Map.of("consumed", got, "producer", producerMetrics), 0);
    } catch (Throwable e) {
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) root = root.getCause();
      print(Map.of("error", e.getClass().getSimpleName() + ": " + e.getMessage() + (root != e ? " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")" : "")), 2);
    }
  }
}
