// The broker process collects V8's young generation every GC_EVERY_BYTES read from clients, so that
// dead socket chunks and frames are freed young (network/gc-pacing.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { GC_EVERY_BYTES, noteBytesReceived, noteBytesSent, paceGcByBytesReceived, stopGcPacing } from '../../../src/broker/network/gc-pacing.js';

describe('GC pacing by bytes received', () => {
  afterEach(() => stopGcPacing());

  it('does nothing until turned on', () => {
    expect(() => noteBytesReceived(10 * GC_EVERY_BYTES)).not.toThrow();
  });

  it('asks for one minor collection per GC_EVERY_BYTES, counted across chunks', () => {
    const calls: unknown[] = [];
    paceGcByBytesReceived((opts) => calls.push(opts));
    const chunk = 64 * 1024;
    for (let sent = 0; sent + chunk < GC_EVERY_BYTES; sent += chunk) noteBytesReceived(chunk);
    expect(calls).toEqual([]);
    noteBytesReceived(chunk);
    expect(calls).toEqual([{ type: 'minor' }]);
    for (let i = 0; i < (2 * GC_EVERY_BYTES) / chunk; i++) noteBytesReceived(chunk);
    expect(calls).toHaveLength(3);
  });
});

describe('GC pacing by bytes sent', () => {
  afterEach(() => stopGcPacing());

  it('asks for one minor collection per GC_EVERY_BYTES of answers, counted apart from bytes received', () => {
    const calls: unknown[] = [];
    paceGcByBytesReceived((opts) => calls.push(opts));
    const answer = 1024 * 1024 + 100;
    noteBytesReceived(GC_EVERY_BYTES - 1);
    for (let sent = 0; sent + answer < GC_EVERY_BYTES; sent += answer) noteBytesSent(answer);
    expect(calls).toEqual([]);
    noteBytesSent(answer);
    expect(calls).toEqual([{ type: 'minor' }]);
  });
});
