// Kafka's LineMessageReader (console-producer's input): one record per line, laid out as
// `[headers<headers.delimiter>][key<key.separator>]value`. Texts of errors are Kafka's.
import { CliError } from '../errors.js';
import type { RecordHeader } from './message-formatter.js';

export interface ProducerInput {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** Explicit partition (JSONL input only). */
  partition?: number;
  /** Explicit CreateTime (JSONL input only). */
  timestamp?: number;
}

export class LineMessageReader {
  private parseKey = false;
  private keySeparator = '\t';
  private parseHeaders = false;
  private headersDelimiter = '\t';
  private headersSeparator = ',';
  private headersKeySeparator = ':';
  private ignoreError = false;
  private nullMarker: string | undefined;
  private headersSeparatorPattern: RegExp;

  constructor(props: ReadonlyMap<string, string> = new Map()) {
    const bool = (k: string): boolean => (props.get(k) ?? '').trim().toLowerCase() === 'true';
    if (props.has('parse.key')) this.parseKey = bool('parse.key');
    if (props.has('key.separator')) this.keySeparator = props.get('key.separator')!;
    if (props.has('parse.headers')) this.parseHeaders = bool('parse.headers');
    if (props.has('headers.delimiter')) this.headersDelimiter = props.get('headers.delimiter')!;
    if (props.has('headers.separator')) this.headersSeparator = props.get('headers.separator')!;
    try {
      this.headersSeparatorPattern = new RegExp(this.headersSeparator, 'u');
    } catch {
      this.headersSeparatorPattern = new RegExp(this.headersSeparator.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    }
    if (props.has('headers.key.separator')) this.headersKeySeparator = props.get('headers.key.separator')!;
    if (props.has('ignore.error')) this.ignoreError = bool('ignore.error');
    const fail = (a: string, b: string): never => {
      throw new CliError(`${a} and ${b} may not be equal`);
    };
    if (this.headersDelimiter === this.headersSeparator) fail('headers.delimiter', 'headers.separator');
    if (this.headersDelimiter === this.headersKeySeparator) fail('headers.delimiter', 'headers.key.separator');
    if (this.headersSeparator === this.headersKeySeparator) fail('headers.separator', 'headers.key.separator');
    if (props.has('null.marker')) this.nullMarker = props.get('null.marker')!;
    if (this.nullMarker === this.keySeparator) fail('null.marker', 'key.separator');
    if (this.nullMarker === this.headersSeparator) fail('null.marker', 'headers.separator');
    if (this.nullMarker === this.headersDelimiter) fail('null.marker', 'headers.delimiter');
    if (this.nullMarker === this.headersKeySeparator) fail('null.marker', 'headers.key.separator');
  }

  /** Parses one line (without its line terminator); `lineNumber` counts from 1. */
  parse(line: string, lineNumber: number): ProducerInput {
    const headers = this.field(this.parseHeaders, line, 0, this.headersDelimiter, 'headers delimiter', lineNumber);
    const headerOffset = headers === null ? 0 : headers.length + this.headersDelimiter.length;
    const key = this.field(this.parseKey, line, headerOffset, this.keySeparator, 'key separator', lineNumber);
    const keyOffset = key === null ? 0 : key.length + this.keySeparator.length;
    const value = line.slice(headerOffset + keyOffset);
    return {
      key: key !== null && key !== this.nullMarker ? Buffer.from(key, 'utf8') : null,
      value: value !== this.nullMarker ? Buffer.from(value, 'utf8') : null,
      headers: headers !== null && headers !== this.nullMarker ? this.splitHeaders(headers, lineNumber) : [],
    };
  }

  private field(enabled: boolean, line: string, start: number, demarcation: string, what: string, lineNumber: number): string | null {
    if (!enabled) return null;
    const index = line.indexOf(demarcation, start);
    if (index < 0) {
      if (this.ignoreError) return null;
      throw new CliError(`No ${what} found on line number ${lineNumber}: '${line}'`);
    }
    return line.slice(start, index);
  }

  private splitHeaders(headers: string, lineNumber: number): RecordHeader[] {
    return javaSplit(headers, this.headersSeparatorPattern).map((pair) => {
      const i = pair.indexOf(this.headersKeySeparator);
      if (i < 0) {
        if (this.ignoreError) return { key: pair, value: null };
        throw new CliError(`No header key separator found in pair '${pair}' on line number ${lineNumber}`);
      }
      const key = pair.slice(0, i);
      if (key === this.nullMarker) {
        throw new CliError(`Header keys should not be equal to the null marker '${this.nullMarker}' as they can't be null`);
      }
      const value = pair.slice(i + this.headersKeySeparator.length);
      return { key, value: value === this.nullMarker ? null : Buffer.from(value, 'utf8') };
    });
  }
}

/** java.lang.String#split(regex): trailing empty strings are dropped; no match keeps the input. */
export function javaSplit(s: string, pattern: RegExp): string[] {
  if (s === '') return [''];
  const parts = s.split(new RegExp(pattern.source, pattern.flags.replace('g', '')));
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
