/**
 * The memory limiter (DESIGN §5; the Collector's memory_limiter, for a
 * process whose threads share one RSS). It samples the process's resident
 * set on a short timer and, at admission, adds what the requests already let
 * in may still cost (their reservations), so that a burst of admissions
 * between two samples cannot carry the process past its limit:
 *
 *   projected = RSS at the last sample + reservations of requests in flight + this request's
 *
 *   projected ≥ soft limit → 429 + Retry-After (slow down)
 *   RSS       ≥ hard limit → 503 + a longer Retry-After for every request, until RSS is back under
 *                            the soft limit (shed hard, then recover by itself), or until, with
 *                            nothing in flight, it has stayed under the hard limit without falling
 *                            for SETTLE_MS: an idle process's heaps keep their pages
 *                            until it works again, so waiting for them would shed for ever (seen:
 *                            a writer idle at 477 MB against a 429 MB soft limit). The soft rules
 *                            then take requests one at a time, so the hard limit still holds.
 *
 * A reservation is the request's bytes times `costFactor`: the body itself
 * (received in the main thread, moved to a worker without a copy) plus what
 * decoding it transiently takes in the worker. It is counted in full for as
 * long as the request is in flight, even after part of it shows in the RSS:
 * conservative by design, so the hard limit holds between samples.
 */

export type MemoryLevel = 'ok' | 'soft' | 'hard';

export interface MemoryLimiterOptions {
  /** The hard limit in bytes. */
  limitBytes: number;
  /** The soft limit as a fraction of the hard one. */
  softFraction: number;
  /** Bytes a request of one body byte may take while in flight. */
  costFactor: number;
  /**
   * The same for a compressed body, whose inflated size is known only in the worker: costFactor times the
   * compression ratio assumed (a worker never inflates past --max-decompressed-bytes).
   */
  compressedCostFactor: number;
  /** How often the RSS is read. */
  sampleMs: number;
  /** The RSS source (process.memoryUsage.rss by default; tests pass their own). */
  rss?: () => number;
}

export const LEVEL_VALUE: Record<MemoryLevel, number> = { ok: 0, soft: 1, hard: 2 };

/** How long an idle, not-falling RSS under the hard limit ends hard shedding (see above). */
export const SETTLE_MS = 2000;

export class MemoryLimiter {
  readonly hardBytes: number;
  readonly softBytes: number;
  private readonly rss: () => number;
  private timer: NodeJS.Timeout | undefined;
  /** The last RSS read, and the highest since start. */
  lastRss = 0;
  peakRss = 0;
  /** Bytes reserved by requests admitted and not yet done. */
  reserved = 0;
  /** Whether the last sample put us in hard shedding (left only once RSS is under the soft limit). */
  private shedding = false;
  /** Consecutive samples, while shedding, with nothing in flight and the RSS under the hard limit and not falling. */
  private settled = 0;
  /** That many samples end hard shedding: SETTLE_MS of them. */
  readonly settleSamples: number;
  readonly refusals: Record<'soft' | 'hard', number> = { soft: 0, hard: 0 };

  constructor(private readonly opts: MemoryLimiterOptions) {
    if (!(opts.softFraction > 0 && opts.softFraction <= 1)) throw new Error('softFraction must be in (0, 1]');
    this.hardBytes = opts.limitBytes;
    this.softBytes = Math.floor(opts.limitBytes * opts.softFraction);
    this.settleSamples = Math.max(1, Math.ceil(SETTLE_MS / opts.sampleMs));
    this.rss = opts.rss ?? (() => process.memoryUsage.rss());
  }

  start(): void {
    this.sample();
    // process.memoryUsage.rss() is one read of /proc/self/stat (a few µs): cheap at this rate.
    this.timer = setInterval(() => this.sample(), this.opts.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  sample(): void {
    const rss = this.rss();
    const falling = rss < this.lastRss;
    this.lastRss = rss;
    if (rss > this.peakRss) this.peakRss = rss;
    if (rss >= this.hardBytes) this.shedding = true;
    else if (rss < this.softBytes) this.shedding = false;
    if (!this.shedding || rss >= this.hardBytes || this.reserved > 0 || falling) this.settled = 0;
    else if (++this.settled >= this.settleSamples) this.shedding = false;
  }

  /** The state /metrics shows: hard while shedding, soft while the projection is at the soft limit. */
  get level(): MemoryLevel {
    if (this.shedding) return 'hard';
    return this.lastRss + this.reserved >= this.softBytes ? 'soft' : 'ok';
  }

  /** The cost a request of `bytes` reserves while in flight. */
  cost(bytes: number, compressed = false): number {
    return Math.ceil(bytes * (compressed ? this.opts.compressedCostFactor : this.opts.costFactor));
  }

  /**
   * Whether a request of `bytes` may enter; counts the refusal if not. When
   * nothing else is in flight, a request is let in as long as it fits under
   * the hard limit, even past the soft one: a single request up to the body
   * limit can pass on an idle process, and a process whose RSS stays over the
   * soft limit after a burst (heaps not yet collected) keeps taking requests
   * one at a time instead of refusing for ever.
   */
  admit(bytes: number, compressed = false): MemoryLevel {
    if (this.shedding) {
      this.refusals.hard++;
      return 'hard';
    }
    const projected = this.lastRss + this.reserved + this.cost(bytes, compressed);
    const alone = this.reserved === 0 && projected < this.hardBytes;
    if (projected >= this.softBytes && !alone) {
      this.refusals.soft++;
      return 'soft';
    }
    return 'ok';
  }

  reserve(cost: number): void {
    this.reserved += cost;
  }

  release(cost: number): void {
    this.reserved -= cost;
  }
}
