/**
 * The front end's own counters, in prom-client's registry. Everything counted
 * on the uWS thread is counted here; what workers and the writer know arrives
 * by message (see src/server/metrics.ts).
 */
import { Counter, Registry } from 'prom-client';
import type { Signal } from '../model/otlp.js';
import * as hdr from 'hdr-histogram-js';

export class IngestMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'keytally_requests_total',
    help: 'OTLP/HTTP requests answered, by signal and status code.',
    labelNames: ['signal', 'code'] as const,
    registers: [this.registry],
  });
  private readonly recordsCounter = new Counter({
    name: 'keytally_records_total',
    help: 'Records accepted by a worker (log records, data points, spans), by signal.',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });
  private readonly rejectedCounter = new Counter({
    name: 'keytally_rejected_records_total',
    help: 'Records rejected as invalid inside otherwise valid requests (partial success), by signal.',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });
  private readonly bytesCounter = new Counter({
    name: 'keytally_received_bytes_total',
    help: 'Request body bytes received (before decompression), by signal.',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });
  private readonly droppedCounter = new Counter({
    name: 'keytally_dropped_requests_total',
    help: 'Requests refused whole, by signal and reason.',
    labelNames: ['signal', 'reason'] as const,
    registers: [this.registry],
  });
  /** Request latency per signal in microseconds, HdrHistogram (exported as quantiles). */
  readonly latencyHistograms = new Map<Signal, hdr.Histogram>();

  constructor() {
    for (const s of ['logs', 'metrics', 'traces'] as const) {
      this.latencyHistograms.set(s, hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 2 }));
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
    this.latencyHistograms.get(signal)!.recordValue(Math.max(1, Math.round(ms * 1000)));
  }
}
