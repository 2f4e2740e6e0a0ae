/**
 * What the load drivers (lean HTTP/1.1, autocannon, gRPC) count the same way, and the two timers they share: the
 * open loop's pacer and the progress message a second. One place, so that the three report alike.
 */
import type { Signal } from '../../src/model/otlp.js';
import { latencyHistogram, latencySummary, zeroCounts as zero } from './latency.js';
import type { DriverMessage, DriverResult } from './protocol.js';

/** A request's body as the counts see it. */
interface Counted {
  signal: Signal;
  records: number;
}

export class Tally {
  readonly startAt = performance.now();
  /** Records in the requests sent, and in those answered 2xx (gRPC: OK). */
  readonly offered = zero();
  readonly accepted = zero();
  readonly statusCounts: Record<string, number> = {};
  responses = 0;
  ok = 0;
  non2xx = 0;
  errors = 0;
  timeouts = 0;
  /** Open loop: requests sent later than their slot because no connection was free. */
  late = 0;
  private lastResponseAt = 0;
  /** Latency in microseconds, accepted answers only: refusals (429/503) answer fast and would flatter the percentiles. */
  private readonly latency = latencyHistogram();
  private readonly progress: NodeJS.Timeout;

  constructor(send: (m: DriverMessage) => void) {
    this.progress = setInterval(() => {
      send({ type: 'progress', elapsedMs: performance.now() - this.startAt, responses: this.responses, ok: this.ok, non2xx: this.non2xx, accepted: { ...this.accepted } });
    }, 1000);
  }

  sent(b: Counted): void {
    this.offered[b.signal] += b.records;
  }

  /** An answer with `status`; `good` when it accepted the request (then `ms`, its latency, is recorded). */
  answered(status: number, good: boolean, ms: number): void {
    this.responses++;
    this.touched();
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    if (good) {
      this.ok++;
      this.latency.recordValue(Math.max(1, Math.round(ms * 1000)));
    } else this.non2xx++;
  }

  /** The records of a request answered as accepted. */
  accept(b: Counted): void {
    this.accepted[b.signal] += b.records;
  }

  /** The run lasts until the last answer, or the last failure: a driver marks a failed request's end with this. */
  touched(): void {
    this.lastResponseAt = performance.now();
  }

  /** The run's result (and the progress messages stop); a driver that counts errors itself passes them. */
  result(over: { errors?: number; timeouts?: number } = {}): DriverResult {
    clearInterval(this.progress);
    return {
      durationMs: (this.lastResponseAt || performance.now()) - this.startAt,
      responses: this.responses,
      ok: this.ok,
      non2xx: this.non2xx,
      statusCounts: this.statusCounts,
      errors: over.errors ?? this.errors,
      timeouts: over.timeouts ?? this.timeouts,
      offered: this.offered,
      accepted: this.accepted,
      latencyMs: latencySummary(this.latency),
      pacedLate: this.late,
    };
  }
}

/**
 * The open loop's pacer: requests released at `perSecond`, evenly, to whichever connection waits (`release` sends
 * one and says whether one was waiting); one due while none waits goes out as soon as one does, counted as late.
 */
export function startPacer(t: Tally, perSecond: number, release: () => boolean): NodeJS.Timeout {
  let released = 0;
  return setInterval(() => {
    const due = Math.floor(((performance.now() - t.startAt) / 1000) * perSecond) + 1;
    while (released < due) {
      const late = due - released > 1;
      if (!release()) break;
      if (late) t.late++;
      released++;
    }
  }, 1);
}
