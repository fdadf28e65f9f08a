// Serdes with Kafka's wire formats, so that a TypeScript app and a Java one read each other's topics:
// strings are UTF-8, Long is an 8-byte big-endian two's-complement integer, Integer 4 bytes, Double
// an 8-byte IEEE 754 value. null stays null (a tombstone) in both directions, as in Kafka.
//
// Long values are JavaScript numbers: exact up to 2^53, which covers counts and sums in practice;
// a value outside that range is refused rather than silently rounded.

export interface Serializer<T> {
  serialize(topic: string, data: T | null): Buffer | null;
}

export interface Deserializer<T> {
  deserialize(topic: string, data: Buffer | null): T | null;
}

/** A user serde implements both halves (or use Serdes.serdeFrom). */
export interface Serde<T> extends Serializer<T>, Deserializer<T> {}

class FnSerde<T> implements Serde<T> {
  constructor(
    private readonly ser: (v: T) => Buffer,
    private readonly de: (b: Buffer) => T,
  ) {}
  serialize(_topic: string, data: T | null): Buffer | null {
    return data === null || data === undefined ? null : this.ser(data);
  }
  deserialize(_topic: string, data: Buffer | null): T | null {
    return data === null ? null : this.de(data);
  }
}

function sizeChecked(name: string, size: number, b: Buffer): Buffer {
  if (b.length !== size) throw new SerializationException(`Size of data received by ${name}Deserializer is not ${size}`);
  return b;
}

export class SerializationException extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SerializationException';
  }
}

const STRING = new FnSerde<string>((s) => Buffer.from(s, 'utf8'), (b) => b.toString('utf8'));
const LONG = new FnSerde<number>(
  (n) => {
    if (!Number.isSafeInteger(n)) throw new SerializationException(`Long serde: ${n} is not an integer within 2^53`);
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64BE(BigInt(n));
    return b;
  },
  (b) => {
    const v = sizeChecked('Long', 8, b).readBigInt64BE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new SerializationException(`Long serde: ${v} does not fit a JavaScript number exactly`);
    return Number(v);
  },
);
const INTEGER = new FnSerde<number>(
  (n) => {
    if (!Number.isInteger(n) || n > 2147483647 || n < -2147483648) throw new SerializationException(`Integer serde: ${n} is not a 32-bit integer`);
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(n);
    return b;
  },
  (b) => sizeChecked('Integer', 4, b).readInt32BE(0),
);
const DOUBLE = new FnSerde<number>(
  (n) => {
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleBE(n);
    return b;
  },
  (b) => sizeChecked('Double', 8, b).readDoubleBE(0),
);
const BYTES = new FnSerde<Buffer>((b) => b, (b) => b);

export const Serdes = {
  String: (): Serde<string> => STRING,
  Long: (): Serde<number> => LONG,
  Integer: (): Serde<number> => INTEGER,
  Double: (): Serde<number> => DOUBLE,
  ByteArray: (): Serde<Buffer> => BYTES,
  Bytes: (): Serde<Buffer> => BYTES,
  /** UTF-8 JSON (not one of Kafka's built-ins, but what Node apps mostly carry). */
  JSON: <T = unknown>(): Serde<T> => new FnSerde<T>((v) => Buffer.from(JSON.stringify(v), 'utf8'), (b) => JSON.parse(b.toString('utf8')) as T),
  serdeFrom: <T>(serializer: Serializer<T> | ((v: T) => Buffer), deserializer: Deserializer<T> | ((b: Buffer) => T)): Serde<T> => {
    const ser = typeof serializer === 'function' ? serializer : (v: T) => serializer.serialize('', v)!;
    const de = typeof deserializer === 'function' ? deserializer : (b: Buffer) => deserializer.deserialize('', b) as T;
    return new FnSerde<T>(ser, de);
  },
};

/** Kafka's serde class names (default.key.serde = ...Serdes$StringSerde), for properties files. */
const BY_CLASS: Record<string, () => Serde<any>> = {
  StringSerde: Serdes.String,
  LongSerde: Serdes.Long,
  IntegerSerde: Serdes.Integer,
  DoubleSerde: Serdes.Double,
  ByteArraySerde: Serdes.ByteArray,
  BytesSerde: Serdes.Bytes,
};

export function serdeFromConfig(value: unknown, key: string): Serde<any> {
  if (value === undefined || value === null) return Serdes.String();
  if (typeof value === 'object' && typeof (value as Serde<unknown>).serialize === 'function') return value as Serde<unknown>;
  if (typeof value === 'string') {
    const short = value.replace(/^.*[.$]/, '');
    const make = BY_CLASS[short];
    if (make) return make();
  }
  throw new Error(`Invalid value ${String(value)} for configuration ${key}: Class ${String(value)} could not be found.`);
}
