// Kafka 4.4's StandardAuthorizer (the KRaft authorizer, from its jars) as the oracle for kts's
// authorizer decisions (authorizer-as-kafka.test.ts): argv[0] is a JSON array of {superUsers,
// allowIfNoAcl, acls: [{resourceType, resourceName, patternType, principal, host, operation,
// permissionType}], queries: [{principal, host, operation, resourceType, name}]} with Kafka's numeric
// codes; prints one array per case, a boolean per query (ALLOWED). Run with `java -cp <kafka lib>/* AuthorizerOracle.java`.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetAddress;
import java.util.*;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.metadata.authorizer.StandardAcl;
import org.apache.kafka.metadata.authorizer.StandardAuthorizer;
import org.apache.kafka.server.authorizer.*;

public class AuthorizerOracle {
  public static void main(String[] args) throws Exception {
    List<Object> all = new ArrayList<>();
    for (JsonNode spec : new ObjectMapper().readTree(args[0])) all.add(decide(spec));
    System.out.println(new ObjectMapper().writeValueAsString(all));
  }

  static List<Boolean> decide(JsonNode spec) throws Exception {
    StandardAuthorizer authorizer = new StandardAuthorizer();
    Map<String, Object> configs = new HashMap<>();
    configs.put("super.users", spec.get("superUsers").asText());
    configs.put("allow.everyone.if.no.acl.found", spec.get("allowIfNoAcl").asText());
    authorizer.configure(configs);
    // Its metrics are required; kept in a private registry nobody reads.
    org.apache.kafka.common.metrics.Metrics registry = new org.apache.kafka.common.metrics.Metrics();
    authorizer.withPluginMetrics(new org.apache.kafka.common.metrics.PluginMetrics() {
      public org.apache.kafka.common.MetricName metricName(String name, String description, LinkedHashMap<String, String> tags) { return registry.metricName(name, "oracle", description, tags); }
      public void addMetric(org.apache.kafka.common.MetricName name, org.apache.kafka.common.metrics.MetricValueProvider<?> provider) { registry.addMetric(name, provider); }
      public void removeMetric(org.apache.kafka.common.MetricName name) { registry.removeMetric(name); }
      public org.apache.kafka.common.metrics.Sensor addSensor(String name) { return registry.sensor(name); }
      public void removeSensor(String name) { registry.removeSensor(name); }
    });
    for (JsonNode a : spec.get("acls")) {
      authorizer.addAcl(Uuid.randomUuid(), new StandardAcl(
          ResourceType.fromCode((byte) a.get("resourceType").asInt()), a.get("resourceName").asText(),
          PatternType.fromCode((byte) a.get("patternType").asInt()), a.get("principal").asText(), a.get("host").asText(),
          AclOperation.fromCode((byte) a.get("operation").asInt()), AclPermissionType.fromCode((byte) a.get("permissionType").asInt())));
    }
    authorizer.completeInitialLoad();
    List<Boolean> out = new ArrayList<>();
    for (JsonNode q : spec.get("queries")) {
      String text = q.get("principal").asText();
      KafkaPrincipal principal = new KafkaPrincipal(text.substring(0, text.indexOf(':')), text.substring(text.indexOf(':') + 1));
      InetAddress address = InetAddress.getByName(q.get("host").asText());
      AuthorizableRequestContext ctx = new AuthorizableRequestContext() {
        public String listenerName() { return "PLAINTEXT"; }
        public SecurityProtocol securityProtocol() { return SecurityProtocol.PLAINTEXT; }
        public KafkaPrincipal principal() { return principal; }
        public InetAddress clientAddress() { return address; }
        public int requestType() { return 3; }
        public int requestVersion() { return 12; }
        public String clientId() { return "oracle"; }
        public int correlationId() { return 1; }
      };
      Action action = new Action(AclOperation.fromCode((byte) q.get("operation").asInt()),
          new ResourcePattern(ResourceType.fromCode((byte) q.get("resourceType").asInt()), q.get("name").asText(), PatternType.LITERAL), 1, true, true);
      out.add(authorizer.authorize(ctx, List.of(action)).get(0) == AuthorizationResult.ALLOWED);
    }
    authorizer.close();
    return out;
  }
}
