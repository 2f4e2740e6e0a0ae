/**
 * Per-thread heap trace for memory investigations: with KEYTALLY_TRACE_HEAP=MS
 * set, every thread that calls startHeapTrace() prints one JSON line of its V8
 * heap statistics to stderr every MS milliseconds. Worker threads share the
 * process's RSS, so this is the only way to see which thread holds what.
 * Off (one env lookup) unless the variable is set. `extra` adds a thread's own
 * figures (the writer: its sketch bytes) to each line.
 */
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { threadHeap } from './thread-heap.js';

const MB = 1024 * 1024;

export function startHeapTrace(thread: string, extra?: () => Record<string, number>): void {
  const every = Number(process.env['KEYTALLY_TRACE_HEAP'] ?? 0);
  if (!(every > 0)) return;
  const timer = setInterval(() => {
    const h = threadHeap();
    const spaces: Record<string, number> = {};
    for (const s of getHeapSpaceStatistics()) spaces[s.space_name.replace(/_space$/, '')] = +(s.space_size / MB).toFixed(1);
    const line = {
      heapTrace: thread,
      t: Date.now(),
      rssMb: +(process.memoryUsage.rss() / MB).toFixed(1),
      totalMb: +(h.total / MB).toFixed(1),
      usedMb: +(h.used / MB).toFixed(1),
      externalMb: +(h.external / MB).toFixed(1),
      mallocedMb: +(getHeapStatistics().malloced_memory / MB).toFixed(1),
      spaces,
      ...extra?.(),
    };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  }, every);
  timer.unref();
}
