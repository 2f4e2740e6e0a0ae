/**
 * One thread's V8 heap in three figures, for /metrics. Worker threads share the
 * process's RSS, so `keytally_thread_heap_bytes` is how an operator sees which
 * thread holds the memory (src/server/metrics.ts). Each thread reports its own:
 * the writer in its stats message, ingest workers with each delta batch, the
 * reader on a timer.
 */
import { getHeapStatistics } from 'node:v8';

export interface ThreadHeap {
  /** Live objects and not yet collected garbage in the V8 heap. */
  used: number;
  /** V8 heap committed by the thread. */
  total: number;
  /** Memory outside the heap that V8 accounts to the thread: ArrayBuffers, typed arrays, wasm. */
  external: number;
}

export function threadHeap(): ThreadHeap {
  const h = getHeapStatistics();
  return { used: h.used_heap_size, total: h.total_heap_size, external: h.external_memory };
}
