import { describe, expect, it } from 'vitest';
import { canReleaseBuffers, releaseBuffer, releaseView } from '../../src/util/release.js';

describe('releaseBuffer', () => {
  it('is available in the test processes, as in the server threads (vitest.config.ts execArgv)', () => {
    expect(canReleaseBuffers()).toBe(true);
  });

  it('frees a buffer at once, without a GC', () => {
    const bufs = Array.from({ length: 8 }, () => new Uint8Array(4 * 1024 * 1024).fill(7));
    const before = process.memoryUsage().arrayBuffers;
    for (const b of bufs) releaseBuffer(b.buffer);
    const after = process.memoryUsage().arrayBuffers;
    expect(before - after).toBeGreaterThanOrEqual(32 * 1024 * 1024);
    expect(bufs[0]!.byteLength).toBe(0);
    expect(bufs[0]!.buffer.byteLength).toBe(0);
  });

  it('leaves tiny and shared buffers alone', () => {
    const tiny = new Uint8Array(100);
    releaseBuffer(tiny.buffer);
    expect(tiny.byteLength).toBe(100);
    const shared = new SharedArrayBuffer(1 << 20);
    releaseBuffer(shared);
    expect(shared.byteLength).toBe(1 << 20);
  });
});

describe('releaseView', () => {
  it('frees a view that covers its whole buffer', () => {
    const v = new Uint32Array(4096);
    releaseView(v);
    expect(v.length).toBe(0);
  });

  it('leaves a view alone when its buffer holds other data (a pooled Buffer, a subarray)', () => {
    const whole = new Uint8Array(64 * 1024).fill(1);
    const part = whole.subarray(1024, 32 * 1024);
    releaseView(part);
    expect(part.byteLength).toBe(31 * 1024);
    expect(whole[0]).toBe(1);
  });
});

describe('releaseBuffer on buffers that cannot be detached', () => {
  it('does nothing and does not throw (WebAssembly memory)', () => {
    const mem = new WebAssembly.Memory({ initial: 1 });
    expect(() => releaseBuffer(mem.buffer)).not.toThrow();
    expect(mem.buffer.byteLength).toBe(65536);
  });
});
