/**
 * Memory of another process from /proc/PID/status: the whole process, all
 * threads (worker threads share the address space, so there is no per-thread
 * RSS; attribution is done by varying the flags that bound each thread).
 */
import { readFileSync } from 'node:fs';

export interface ProcMemory {
  /** Resident set now (VmRSS). */
  rss: number;
  /** Peak resident set since start, kept by the kernel (VmHWM): catches spikes between samples. */
  hwm: number;
  /** Anonymous pages (heaps, typed arrays, SQLite page cache). */
  anon: number;
  /** File-backed pages (code, SQLite mmap of the database). */
  file: number;
  threads: number;
}

const FIELDS: Record<string, keyof ProcMemory> = { VmRSS: 'rss', VmHWM: 'hwm', RssAnon: 'anon', RssFile: 'file', Threads: 'threads' };

/** Reads /proc/PID/status; undefined once the process is gone. */
export function readProcMemory(pid: number): ProcMemory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const m: ProcMemory = { rss: 0, hwm: 0, anon: 0, file: 0, threads: 0 };
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    const f = FIELDS[line.slice(0, i)];
    if (f === undefined) continue;
    const n = parseInt(line.slice(i + 1), 10);
    // All but Threads are in kB.
    m[f] = f === 'threads' ? n : n * 1024;
  }
  return m;
}

/** Samples a process's memory on a timer and keeps the largest RSS seen and a short history. */
export class MemorySampler {
  maxRss = 0;
  last: ProcMemory | undefined;
  private readonly history: Array<{ t: number; rss: number }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number,
    private readonly everyMs = 50,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  sample(): ProcMemory | undefined {
    const m = readProcMemory(this.pid);
    if (!m) return undefined;
    this.last = m;
    if (m.rss > this.maxRss) this.maxRss = m.rss;
    const now = Date.now();
    this.history.push({ t: now, rss: m.rss });
    // Keep the last 10 s: enough for settle().
    while (this.history.length > 0 && this.history[0]!.t < now - 10_000) this.history.shift();
    return m;
  }

  /**
   * Waits until RSS has moved by less than `toleranceBytes` over `windowMs`
   * (the sidecar finished what it was doing and its heaps stopped shrinking),
   * or `timeoutMs` passed; returns the reading at that point.
   */
  async settle(windowMs = 2000, toleranceBytes = 2 * 1024 * 1024, timeoutMs = 20_000): Promise<{ mem: ProcMemory; settled: boolean }> {
    const start = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const m = this.sample();
      if (!m) throw new Error(`process ${this.pid} is gone`);
      const now = Date.now();
      const recent = this.history.filter((h) => h.t >= now - windowMs);
      const covered = now - start >= windowMs;
      if (covered && recent.length > 1) {
        const lo = Math.min(...recent.map((h) => h.rss));
        const hi = Math.max(...recent.map((h) => h.rss));
        if (hi - lo < toleranceBytes) return { mem: m, settled: true };
      }
      if (now - start > timeoutMs) return { mem: m, settled: false };
    }
  }
}
