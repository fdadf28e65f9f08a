// Kafka's ssl.principal.mapping.rules: how a client certificate's subject (RFC 2253) becomes the
// principal's name. A comma-separated list, tried in order, the first that applies wins:
//   DEFAULT                              the subject as it is
//   RULE:<pattern>/<replacement>/[L|U]   when the Java regex matches the whole subject, the subject
//                                        with every match replaced ($1.. are groups), then lower- or
//                                        upper-cased
// No rule applying fails the authentication (Kafka's NoMatchingRule). The parsing follows Kafka's
// SslPrincipalMapper: the same splitting regex, "Invalid rule: ..." for what does not parse, a $n
// naming a group the pattern does not have kept as literal text.

/** A rule's text as Kafka's grammar reads it (Java regex source, valid in JavaScript as written). */
const RULE_PATTERN = String.raw`(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)`;
const RULE_SPLITTER = new RegExp(String.raw`\s*(` + RULE_PATTERN + String.raw`)\s*(,\s*|$)`, 'g');
const RULE_PARSER = new RegExp(`^(?:${RULE_PATTERN})`);

export class InvalidMappingRule extends Error {}

type Piece = string | number;

interface Rule {
  /** undefined: DEFAULT. */
  pattern?: RegExp;
  whole?: RegExp;
  replacement?: Piece[];
  lower?: boolean;
  upper?: boolean;
  text: string;
}

/** Java's Matcher.appendReplacement reading of a replacement ("\x" literal, "$n" a group), after Kafka keeps unknown $n literal. */
function parseReplacement(replacement: string, groups: number): Piece[] {
  const out: Piece[] = [];
  let literal = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i];
    if (c === '\\' && i + 1 < replacement.length) {
      literal += replacement[++i];
    } else if (c === '$' && /\d/.test(replacement[i + 1] ?? '')) {
      // Kafka (escapeLiteralBackReferences): $123 with fewer groups reads as $12, then $1; none left
      // (or $0-prefixed numbers are Java's own) -> the text stays.
      const digits = /^\d+/.exec(replacement.slice(i + 1))![0];
      let ref = Number(digits[0]);
      let used = 1;
      if (digits[0] !== '0' && ref > groups) {
        literal += '$';
        continue;
      }
      // Java then takes more digits while the number stays a group.
      while (used < digits.length && ref * 10 + Number(digits[used]) <= groups) ref = ref * 10 + Number(digits[used++]);
      if (literal) out.push(literal);
      literal = '';
      out.push(ref);
      i += used;
    } else if (c === '$') {
      throw new InvalidMappingRule(`Illegal group reference in replacement '${replacement}'`);
    } else {
      literal += c;
    }
  }
  if (literal) out.push(literal);
  return out;
}

function compile(source: string, flags: string, rule: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new InvalidMappingRule(`Invalid rule: ${rule} (${(err as Error).message})`);
  }
}

export class SslPrincipalMapper {
  private constructor(private readonly rules: Rule[]) {}

  /** Parses the rules as Kafka does; throws InvalidMappingRule with Kafka's message. */
  static fromRules(rules: string | undefined): SslPrincipalMapper {
    const texts: string[] = [];
    const input = (rules ?? 'DEFAULT').trim();
    for (const m of input.matchAll(RULE_SPLITTER)) texts.push(m[1]);
    const parsed: Rule[] = [];
    for (const text of texts) {
      const m = RULE_PARSER.exec(text);
      if (!m) throw new InvalidMappingRule(`Invalid rule: ${text}`);
      if (m[0].length !== text.length) throw new InvalidMappingRule(`Invalid rule: \`${text}\`, unmatched substring: \`${text.slice(m[0].length)}\``);
      if (m[1] !== undefined) {
        parsed.push({ text: 'DEFAULT' });
      } else if (m[2] !== undefined) {
        const pattern = compile(m[2], 'g', text);
        const groups = new RegExp(`${m[2]}|`).exec('')!.length - 1;
        parsed.push({ pattern, whole: compile(`^(?:${m[2]})$`, '', text), replacement: parseReplacement(m[4], groups), lower: m[6] === 'L', upper: m[6] === 'U', text });
      }
      // An empty rule is ignored, as in Kafka.
    }
    return new SslPrincipalMapper(parsed);
  }

  /** The principal name for a subject, or undefined when no rule applies. */
  map(subject: string): string | undefined {
    for (const rule of this.rules) {
      if (!rule.pattern) return subject;
      if (!rule.whole!.test(subject)) continue;
      // Java's replaceAll: every match in the subject (an empty match at the end included).
      let result = subject.replace(rule.pattern, (...args: unknown[]) => rule.replacement!.map((p) => (typeof p === 'number' ? ((args[p] as string | undefined) ?? '') : p)).join(''));
      if (rule.lower) result = result.toLowerCase();
      else if (rule.upper) result = result.toUpperCase();
      return result;
    }
    return undefined;
  }

  toString(): string {
    return `SslPrincipalMapper(rules = [${this.rules.map((r) => r.text).join(', ')}])`;
  }
}
