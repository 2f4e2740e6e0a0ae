/**
 * The front end's own counters, in prom-client's registry. Everything counted
 * on the uWS thread is counted here; what workers and the writer know arrives
 * by message (see src/server/metrics.ts).
 */
import { Counter, Registry } from 'prom-client';
import type { Signal } from '../model/otlp.js';
import * as hdr from 'hdr-histogram-js';

export const SIGNALS = ['logs', 'metrics', 'traces'] as const satisfies readonly Signal[];

/** The OTLP transport a request came in on: the `protocol` label of every front-end series. */
export type Protocol = 'http' | 'grpc';
export const PROTOCOLS = ['http', 'grpc'] as const satisfies readonly Protocol[];

/** Request latency of one signal: an HdrHistogram in microseconds for quantiles, plus the exact sum the histogram cannot give. */
export interface LatencyRecord {
  histogram: hdr.Histogram;
  sumSeconds: number;
}

export class IngestMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'keytally_requests_total',
    help: 'OTLP requests answered, by protocol (http, grpc), signal and status: the HTTP status code, or the gRPC status name.',
    labelNames: ['protocol', 'signal', 'code'] as const,
    registers: [this.registry],
  });
  private readonly recordsCounter = new Counter({
    name: 'keytally_records_total',
    help: 'Records accepted by a worker (log records, metric data points, spans), by protocol and signal.',
    labelNames: ['protocol', 'signal'] as const,
    registers: [this.registry],
  });
  private readonly rejectedCounter = new Counter({
    name: 'keytally_rejected_records_total',
    help: 'Records rejected as invalid inside otherwise valid requests (OTLP partial success), by protocol and signal.',
    labelNames: ['protocol', 'signal'] as const,
    registers: [this.registry],
  });
  private readonly bytesCounter = new Counter({
    name: 'keytally_received_bytes_total',
    help: 'Request body bytes received (as sent, before decompression), by protocol and signal.',
    labelNames: ['protocol', 'signal'] as const,
    registers: [this.registry],
  });
  // Counted in requests, not records: a request refused whole was never decoded, so its record count is unknown.
  private readonly droppedCounter = new Counter({
    name: 'keytally_dropped_requests_total',
    help: 'Requests refused whole (nothing in them counted), by protocol, signal and reason.',
    labelNames: ['protocol', 'signal', 'reason'] as const,
    registers: [this.registry],
  });
  /** Request latency per protocol and signal since start (exported as a summary by src/server/metrics.ts). */
  readonly latencies = new Map<Protocol, Map<Signal, LatencyRecord>>();

  constructor() {
    for (const protocol of PROTOCOLS) {
      const bySignal = new Map<Signal, LatencyRecord>();
      this.latencies.set(protocol, bySignal);
      for (const signal of SIGNALS) {
        // Label sets known up front are exported as 0 from the start, so rate() and increase() see the first request.
        this.recordsCounter.inc({ protocol, signal }, 0);
        this.rejectedCounter.inc({ protocol, signal }, 0);
        this.bytesCounter.inc({ protocol, signal }, 0);
        this.requests.inc({ protocol, signal, code: protocol === 'http' ? '200' : 'OK' }, 0);
        bySignal.set(signal, {
          histogram: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 2, useWebAssembly: true }),
          sumSeconds: 0,
        });
      }
    }
  }

  // `protocol` comes last and defaults to http, so the OTLP/HTTP receiver's calls read as before.
  request(signal: Signal, code: number | string, protocol: Protocol = 'http'): void {
    this.requests.inc({ protocol, signal, code: String(code) });
  }

  records(signal: Signal, accepted: number, rejected: number, protocol: Protocol = 'http'): void {
    if (accepted > 0) this.recordsCounter.inc({ protocol, signal }, accepted);
    if (rejected > 0) this.rejectedCounter.inc({ protocol, signal }, rejected);
  }

  bytes(signal: Signal, n: number, protocol: Protocol = 'http'): void {
    this.bytesCounter.inc({ protocol, signal }, n);
  }

  dropped(signal: Signal, reason: string, protocol: Protocol = 'http'): void {
    this.droppedCounter.inc({ protocol, signal, reason });
  }

  latency(signal: Signal, ms: number, protocol: Protocol = 'http'): void {
    const l = this.latencies.get(protocol)!.get(signal)!;
    // Microseconds, at least 1: the histogram's lowest discernible value.
    l.histogram.recordValue(Math.min(120_000_000, Math.max(1, Math.round(ms * 1000))));
    l.sumSeconds += ms / 1000;
  }
}
