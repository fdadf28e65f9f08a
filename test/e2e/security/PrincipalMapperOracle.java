// Kafka 4.4's own SslPrincipalMapper as the oracle for kts's (ssl-principal-mapper.test.ts): argv[0]
// is JSON [{rules, subjects}], the answer one JSON array per case: each subject's principal name,
// {"noMatch": true} when no rule applies, or {"invalid": message} when the rules do not parse.
// Run with `java -cp <kafka lib>/* PrincipalMapperOracle.java` (single-file source launch).
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.*;
import org.apache.kafka.common.security.ssl.SslPrincipalMapper;

public class PrincipalMapperOracle {
  public static void main(String[] args) throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<Object> out = new ArrayList<>();
    for (JsonNode c : json.readTree(args[0])) {
      SslPrincipalMapper mapper;
      try {
        mapper = SslPrincipalMapper.fromRules(c.get("rules").asText());
      } catch (IllegalArgumentException e) {
        out.add(Map.of("invalid", String.valueOf(e.getMessage())));
        continue;
      }
      List<Object> names = new ArrayList<>();
      for (JsonNode s : c.get("subjects")) {
        try {
          names.add(mapper.getName(s.asText()));
        } catch (SslPrincipalMapper.NoMatchingRule e) {
          names.add(Map.of("noMatch", true));
        } catch (Exception e) {
          names.add(Map.of("error", e.getClass().getSimpleName()));
        }
      }
      out.add(names);
    }
    System.out.println(json.writeValueAsString(out));
  }
}
