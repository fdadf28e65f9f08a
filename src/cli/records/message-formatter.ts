// Kafka's DefaultMessageFormatter (console-consumer's output), byte for byte:
// fields in the fixed order timestamp, partition, offset, headers, key, value; `key.separator`
// after a field when a later one is printed, `line.separator` after the last one; separators
// written as given (no escape processing); booleans true only for "true" (trimmed, any case).
import type { FetchedRecord } from '../../client/index.js';
import { deserializerFor, type Deserializer } from './deserializers.js';

export type RecordHeader = FetchedRecord['headers'][number];

/** One record as the consumer hands it to a formatter: what the client's fetch decodes. */
export type ConsumedRecord = FetchedRecord;

export interface MessageFormatter {
  format(record: ConsumedRecord): Buffer;
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

export class DefaultMessageFormatter implements MessageFormatter {
  private printTimestamp = false;
  private printKey = false;
  private printValue = true;
  private printPartition = false;
  private printOffset = false;
  private printHeaders = false;
  private keySeparator = utf8('\t');
  private lineSeparator = utf8('\n');
  private headersSeparator = utf8(',');
  private nullLiteral = utf8('null');
  private keyDeserializer?: Deserializer;
  private valueDeserializer?: Deserializer;
  private headersDeserializer?: Deserializer;

  constructor(props: ReadonlyMap<string, string> = new Map()) {
    const bool = (k: string): boolean => (props.get(k) ?? '').trim().toLowerCase() === 'true';
    if (props.has('print.timestamp')) this.printTimestamp = bool('print.timestamp');
    if (props.has('print.key')) this.printKey = bool('print.key');
    if (props.has('print.offset')) this.printOffset = bool('print.offset');
    if (props.has('print.partition')) this.printPartition = bool('print.partition');
    if (props.has('print.headers')) this.printHeaders = bool('print.headers');
    if (props.has('print.value')) this.printValue = bool('print.value');
    if (props.has('key.separator')) this.keySeparator = utf8(props.get('key.separator')!);
    if (props.has('line.separator')) this.lineSeparator = utf8(props.get('line.separator')!);
    if (props.has('headers.separator')) this.headersSeparator = utf8(props.get('headers.separator')!);
    if (props.has('null.literal')) this.nullLiteral = utf8(props.get('null.literal')!);
    this.keyDeserializer = deserializerFor(props.get('key.deserializer'));
    this.valueDeserializer = deserializerFor(props.get('value.deserializer'));
    this.headersDeserializer = deserializerFor(props.get('headers.deserializer'));
  }

  format(r: ConsumedRecord): Buffer {
    const parts: Buffer[] = [];
    const sep = (more: boolean): void => {
      parts.push(more ? this.keySeparator : this.lineSeparator);
    };
    if (this.printTimestamp) {
      parts.push(utf8(r.timestampType === 'NO_TIMESTAMP' ? 'NO_TIMESTAMP' : `${r.timestampType}:${r.timestamp}`));
      sep(this.printPartition || this.printOffset || this.printHeaders || this.printKey || this.printValue);
    }
    if (this.printPartition) {
      parts.push(utf8(`Partition:${r.partition}`));
      sep(this.printOffset || this.printHeaders || this.printKey || this.printValue);
    }
    if (this.printOffset) {
      parts.push(utf8(`Offset:${r.offset}`));
      sep(this.printHeaders || this.printKey || this.printValue);
    }
    if (this.printHeaders) {
      if (r.headers.length === 0) {
        parts.push(utf8('NO_HEADERS'));
      } else {
        r.headers.forEach((h, i) => {
          parts.push(utf8(`${h.key}:`), this.payload(h.value, this.headersDeserializer, r.topic));
          if (i < r.headers.length - 1) parts.push(this.headersSeparator);
        });
      }
      sep(this.printKey || this.printValue);
    }
    if (this.printKey) {
      parts.push(this.payload(r.key, this.keyDeserializer, r.topic));
      sep(this.printValue);
    }
    if (this.printValue) {
      parts.push(this.payload(r.value, this.valueDeserializer, r.topic), this.lineSeparator);
    }
    return Buffer.concat(parts);
  }

  /** Kafka substitutes the null literal first and only then deserializes. */
  private payload(bytes: Buffer | null, deserializer: Deserializer | undefined, topic: string): Buffer {
    const nonNull = bytes ?? this.nullLiteral;
    return deserializer ? utf8(deserializer(nonNull, topic)) : nonNull;
  }
}

/** The formatter that prints nothing (`--formatter ...NoOpMessageFormatter`). */
export class NoOpMessageFormatter implements MessageFormatter {
  format(): Buffer {
    return Buffer.alloc(0);
  }
}
