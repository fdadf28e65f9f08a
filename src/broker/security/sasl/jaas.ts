// Kafka's JAAS configuration in a property (sasl.jaas.config and its per-listener, per-mechanism
// forms): `<LoginModule class> <flag> key="value" key2=value2 ... ;`. Only what the broker reads
// from it matters here: the options (PlainLoginModule's user_<name>="password" entries, the
// OAuthBearer validator's unsecuredValidator* options).
export interface JaasEntry {
  loginModule: string;
  flag: string;
  options: Map<string, string>;
}

export class JaasError extends Error {}

/** Parses one or more `module flag options;` entries. Throws JaasError on malformed text. */
export function parseJaas(text: string): JaasEntry[] {
  const entries: JaasEntry[] = [];
  let pos = 0;
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const word = (): string => {
    skipSpace();
    const start = pos;
    while (pos < text.length && /[^\s=;"]/.test(text[pos])) pos++;
    return text.slice(start, pos);
  };
  for (;;) {
    skipSpace();
    if (pos >= text.length) break;
    const loginModule = word();
    const flag = word();
    if (!loginModule || !/^(required|requisite|sufficient|optional)$/i.test(flag)) {
      throw new JaasError(`Invalid JAAS config: expected '<LoginModule> required|requisite|sufficient|optional ...;' at '${text.slice(0, 60)}'`);
    }
    const options = new Map<string, string>();
    for (;;) {
      skipSpace();
      if (pos >= text.length) throw new JaasError('Invalid JAAS config: the entry does not end with ;');
      if (text[pos] === ';') {
        pos++;
        break;
      }
      const key = word();
      skipSpace();
      if (!key || text[pos] !== '=') throw new JaasError(`Invalid JAAS config: option '${key}' has no value`);
      pos++;
      skipSpace();
      let value: string;
      if (text[pos] === '"') {
        let end = pos + 1;
        let out = '';
        while (end < text.length && text[end] !== '"') {
          if (text[end] === '\\' && end + 1 < text.length) end++;
          out += text[end++];
        }
        if (end >= text.length) throw new JaasError(`Invalid JAAS config: unterminated quoted value of '${key}'`);
        value = out;
        pos = end + 1;
      } else {
        value = word();
      }
      options.set(key, value);
    }
    entries.push({ loginModule, flag: flag.toLowerCase(), options });
  }
  return entries;
}
