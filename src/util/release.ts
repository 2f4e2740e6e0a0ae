/**
 * Frees an ArrayBuffer's memory now instead of at the next GC.
 *
 * A worker is handed a request body of up to megabytes per task, and the
 * writer a msgpack batch per flush; once used they are garbage whose memory V8
 * only returns when it next collects, and under load that is tens of MB per
 * thread (bench/memory-server.ts). `ArrayBuffer.prototype.transfer(0)` detaches
 * the buffer and frees its backing store at once. On node 20 it sits behind
 * V8's --harmony-rab-gsab-transfer, which startServer() sets before any worker
 * starts (see enableBufferRelease); where it is missing this does nothing and
 * the GC frees the memory as before.
 *
 * Only for buffers nothing else will read again: every view on them becomes
 * empty.
 */
import { setFlagsFromString } from 'node:v8';

/** Below this the memory is small change, and a typed array's data may sit in V8's heap rather than malloc. */
const MIN_BYTES = 1024;

type Transferable = ArrayBuffer & { transfer?: (length?: number) => ArrayBuffer };

/** Turns ArrayBuffer.prototype.transfer on in every isolate (worker thread) created after this call. */
export function enableBufferRelease(): void {
  setFlagsFromString('--harmony-rab-gsab-transfer');
}

/** Whether releaseBuffer can free memory in this thread. */
export function canReleaseBuffers(): boolean {
  return typeof (ArrayBuffer.prototype as Transferable).transfer === 'function';
}

/** Frees `buf`'s memory now (detaching it); a no-op for shared, already-detached or tiny buffers. */
export function releaseBuffer(buf: ArrayBufferLike): void {
  const b = buf as Transferable;
  if (b.byteLength < MIN_BYTES || typeof b.transfer !== 'function' || !(b instanceof ArrayBuffer)) return;
  try {
    b.transfer(0);
  } catch {
    // A buffer V8 will not detach (wasm memory, a non-detachable Node buffer): the GC frees it as before.
  }
}

/** releaseBuffer for a view that covers its whole buffer (one that shares a buffer with others is left alone). */
export function releaseView(v: ArrayBufferView): void {
  // Checked before touching .buffer: that would move a small on-heap typed array's data off the heap.
  if (v.byteLength < MIN_BYTES) return;
  if (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) releaseBuffer(v.buffer);
}
