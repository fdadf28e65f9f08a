// Loads the committed golden fixtures (test/fixtures/records/*.json, captured by
// scripts/capture-record-fixtures.mjs and scripts/capture-kcat-batches.mjs).
import { readFileSync } from 'node:fs';

const dir = new URL('../../../fixtures/records/', import.meta.url);

export type JsonBytes = string | { hex: string } | null;

export function bytes(v: JsonBytes): Buffer | null {
  if (v === null) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.hex, 'hex');
}

/** Keeps strings as strings (as a client would pass them) and hex as Buffers. */
export function input(v: JsonBytes): Buffer | string | null {
  return v === null || typeof v === 'string' ? v : Buffer.from(v.hex, 'hex');
}

export function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as T;
}

export interface KafkajsFixture {
  cases: {
    name: string;
    options: { compression?: number; producerId?: number; producerEpoch?: number; firstSequence?: number; transactional?: boolean };
    records: { key: JsonBytes; value: JsonBytes; headers: { key: string; value: JsonBytes }[]; timestamp: number }[];
    hex: string;
  }[];
}

export interface KafkaNodeFixture {
  records: { key: JsonBytes; value: JsonBytes; timestamp: number }[];
  cases: { name: string; magic: 0 | 1; innerMagic: 0 | 1; codec: number; hex: string }[];
}

export interface KcatFixture {
  records: { key: string; value: string; headers: { key: string; value: string }[] }[];
  cases: { codec: string; produceVersion: number; hex: string }[];
}
