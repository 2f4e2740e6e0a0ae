/**
 * CPU time of one thread, split by what it was doing. The machine's cores are
 * shared by every thread of keytally (and a PostgreSQL beside it), so what a
 * thread costs is its CPU per record, not its latency: the writer reports
 * its own in /metrics (`keytally_writer_cpu_seconds_total{part}`), the load
 * bench divides it by the records committed.
 *
 * Node 20 has no per-thread CPU clock (process.cpuUsage is the whole
 * process): on Linux the kernel's scheduler stats of the calling thread give
 * it in ns. Elsewhere every figure stays 0.
 */
import { openSync, readSync } from 'node:fs';

/** The calling thread's CPU time in ns, or undefined when the platform has no such file. */
export function threadCpuClock(): (() => number) | undefined {
  let fd: number;
  try {
    // Opened once: /proc/thread-self is resolved at open, so the fd stays this thread's.
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return undefined;
  }
  const buf = Buffer.alloc(96);
  // One pread of the open file: 2.5 µs here, against 16 µs for readFileSync (open, read, close).
  return () => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    const sp = buf.indexOf(32);
    return Number(buf.toString('latin1', 0, sp < 0 || sp > n ? n : sp));
  };
}

/**
 * Charges a thread's CPU to one part at a time. switchTo() charges the time
 * since the last switch to the current part and makes `part` current; a
 * synchronous handler switches to its part and back to the one it
 * interrupted, so an asynchronous stretch (a commit awaiting its store) keeps
 * what its own callbacks run and loses what the handlers between them ran.
 */
export class CpuParts<P extends string> {
  private readonly ns: Record<P, number>;
  private current: P;
  private at: number;
  private readonly clock: (() => number) | undefined;

  constructor(parts: readonly P[], initial: P, clock: (() => number) | undefined = threadCpuClock()) {
    this.ns = Object.fromEntries(parts.map((p) => [p, 0])) as Record<P, number>;
    this.current = initial;
    this.clock = clock;
    this.at = clock?.() ?? 0;
  }

  /** Makes `part` current; returns the part that was. */
  switchTo(part: P): P {
    const prev = this.current;
    if (this.clock) {
      const now = this.clock();
      this.ns[prev] += now - this.at;
      this.at = now;
    }
    this.current = part;
    return prev;
  }

  /** Seconds per part since start, the current part's time up to now included. */
  seconds(): Record<P, number> {
    this.switchTo(this.current);
    const out = {} as Record<P, number>;
    for (const p of Object.keys(this.ns) as P[]) out[p] = this.ns[p] / 1e9;
    return out;
  }
}
