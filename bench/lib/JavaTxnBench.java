// The Java client (kafka-clients 4.4) producing `txns` batches of `perTxn` x 100 B records to one
// partition, either each batch in its own transaction (beginTransaction, send, commitTransaction)
// or with the idempotent producer alone (the same sends, then flush: every record acknowledged
// before the next batch, as a transaction's commit waits for them), one after another.
// The client is not the bottleneck here (kafkajs spends more CPU per transaction than the broker).
//   java -cp '<kafka-4.4.0/lib>/*' JavaTxnBench.java <bootstrap> <topic> <txn|idempotent> <txns> <perTxn>
//   -> prints JSON { "ms": ..., "perTxnMs": ... }
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class JavaTxnBench {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    boolean transactional = args[2].equals("txn");
    int txns = Integer.parseInt(args[3]);
    int perTxn = Integer.parseInt(args[4]);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "kts-bench-java-txn");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    if (transactional) p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-java-" + ProcessHandle.current().pid());
    byte[] value = new byte[100];
    java.util.Arrays.fill(value, (byte) 't');
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      if (transactional) producer.initTransactions();
      // One warm-up round (metadata, the first partition added) outside the timing.
      batch(producer, topic, value, perTxn, transactional);
      long t0 = System.nanoTime();
      for (int i = 0; i < txns; i++) batch(producer, topic, value, perTxn, transactional);
      double ms = (System.nanoTime() - t0) / 1e6;
      System.out.println("{\"ms\":" + ms + ",\"perTxnMs\":" + (ms / txns) + "}");
    }
  }

  private static void batch(KafkaProducer<byte[], byte[]> producer, String topic, byte[] value, int n, boolean transactional) throws Exception {
    if (transactional) producer.beginTransaction();
    for (int i = 0; i < n; i++) producer.send(new ProducerRecord<>(topic, 0, null, value));
    if (transactional) producer.commitTransaction();
    else producer.flush();
  }
}
