// The deserializer classes console-consumer users name with --key-deserializer / --property
// value.deserializer=..., mapped to functions producing what Java's `toString()` of the
// deserialized object prints. Unknown class names fail like a missing class does in Kafka.
import { CliError } from '../errors.js';

export type Deserializer = (bytes: Buffer, topic: string) => string;

export class SerializationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SerializationException';
  }
}

const PKG = 'org.apache.kafka.common.serialization.';

function fixedSize(name: string, size: number, read: (b: Buffer) => string): Deserializer {
  return (bytes) => {
    if (bytes.length !== size) throw new SerializationError(`Size of data received by ${name} is not ${size}`);
    return read(bytes);
  };
}

/** Java's Float/Double toString: integral values keep a `.0`. */
function javaFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  return Number.isInteger(n) && Math.abs(n) < 1e7 ? n.toFixed(1) : String(n);
}

/** org.apache.kafka.common.utils.Bytes#toString: printable ASCII as is, the rest as \xNN. */
function bytesToString(b: Buffer): string {
  let s = '';
  for (const c of b) {
    s += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return s;
}

const DESERIALIZERS: Record<string, Deserializer> = {
  StringDeserializer: (b) => b.toString('utf8'),
  ByteArrayDeserializer: (b) => b.toString('utf8'),
  ByteBufferDeserializer: (b) => b.toString('utf8'),
  BytesDeserializer: bytesToString,
  VoidDeserializer: () => 'null',
  ShortDeserializer: fixedSize('ShortDeserializer', 2, (b) => String(b.readInt16BE(0))),
  IntegerDeserializer: fixedSize('IntegerDeserializer', 4, (b) => String(b.readInt32BE(0))),
  LongDeserializer: fixedSize('LongDeserializer', 8, (b) => b.readBigInt64BE(0).toString()),
  FloatDeserializer: fixedSize('FloatDeserializer', 4, (b) => javaFloat(b.readFloatBE(0))),
  DoubleDeserializer: fixedSize('DoubleDeserializer', 8, (b) => javaFloat(b.readDoubleBE(0))),
  BooleanDeserializer: fixedSize('BooleanDeserializer', 1, (b) => String(b[0] !== 0)),
  UUIDDeserializer: (b) => b.toString('utf8'),
};

export function deserializerFor(className: string | undefined): Deserializer | undefined {
  if (className === undefined) return undefined;
  const short = className.startsWith(PKG) ? className.slice(PKG.length) : className;
  const d = DESERIALIZERS[short];
  if (!d) {
    throw new CliError(`Unable to instantiate a deserializer from ${className}: kts knows ${Object.keys(DESERIALIZERS).join(', ')}`);
  }
  return d;
}
