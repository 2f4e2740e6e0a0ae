/**
 * The front end's own counters, in prom-client's registry. Everything counted
 * on the uWS thread is counted here; what workers and the writer know arrives
 * by message (see src/server/metrics.ts).
 */
import { Counter, Registry } from 'prom-client';
import type { Signal } from '../model/otlp.js';
import * as hdr from 'hdr-histogram-js';

export const SIGNALS = ['logs', 'metrics', 'traces'] as const satisfies readonly Signal[];

/** Request latency of one signal: an HdrHistogram in microseconds for quantiles, plus the exact sum the histogram cannot give. */
export interface LatencyRecord {
  histogram: hdr.Histogram;
  sumSeconds: number;
}

export class IngestMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'keytally_requests_total',
    help: 'OTLP/HTTP requests answered, by signal and HTTP status code.',
    labelNames: ['signal', 'code'] as const,
    registers: [this.registry],
  });
  private readonly recordsCounter = new Counter({
    name: 'keytally_records_total',
    help: 'Records accepted by a worker (log records, metric data points, spans), by signal.',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });
  private readonly rejectedCounter = new Counter({
    name: 'keytally_rejected_records_total',
    help: 'Records rejected as invalid inside otherwise valid requests (OTLP partial success), by signal.',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });
  private readonly bytesCounter = new Counter({
    name: 'keytally_received_bytes_total',
    help: 'Request body bytes received (as sent, before decompression), by signal.',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });
  // Counted in requests, not records: a request refused whole was never decoded, so its record count is unknown.
  private readonly droppedCounter = new Counter({
    name: 'keytally_dropped_requests_total',
    help: 'Requests refused whole (nothing in them counted), by signal and reason.',
    labelNames: ['signal', 'reason'] as const,
    registers: [this.registry],
  });
  /** Request latency per signal since start (exported as a summary by src/server/metrics.ts). */
  readonly latencies = new Map<Signal, LatencyRecord>();

  constructor() {
    for (const signal of SIGNALS) {
      // Label sets known up front are exported as 0 from the start, so rate() and increase() see the first request.
      this.recordsCounter.inc({ signal }, 0);
      this.rejectedCounter.inc({ signal }, 0);
      this.bytesCounter.inc({ signal }, 0);
      this.requests.inc({ signal, code: '200' }, 0);
      this.latencies.set(signal, {
        histogram: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 2, useWebAssembly: true }),
        sumSeconds: 0,
      });
    }
  }

  request(signal: Signal, code: number): void {
    this.requests.inc({ signal, code: String(code) });
  }

  records(signal: Signal, accepted: number, rejected: number): void {
    if (accepted > 0) this.recordsCounter.inc({ signal }, accepted);
    if (rejected > 0) this.rejectedCounter.inc({ signal }, rejected);
  }

  bytes(signal: Signal, n: number): void {
    this.bytesCounter.inc({ signal }, n);
  }

  dropped(signal: Signal, reason: string): void {
    this.droppedCounter.inc({ signal, reason });
  }

  latency(signal: Signal, ms: number): void {
    const l = this.latencies.get(signal)!;
    // Microseconds, at least 1: the histogram's lowest discernible value.
    l.histogram.recordValue(Math.min(120_000_000, Math.max(1, Math.round(ms * 1000))));
    l.sumSeconds += ms / 1000;
  }
}
