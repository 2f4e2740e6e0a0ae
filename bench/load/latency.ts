/** Client-side request latency of the load drivers (HTTP and gRPC): one HdrHistogram in microseconds, summarised in ms. */
import * as hdr from 'hdr-histogram-js';
import type { DriverResult, SignalCounts } from './protocol.js';

export const zeroCounts = (): SignalCounts => ({ logs: 0, metrics: 0, traces: 0 });

export function latencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}

export function latencySummary(h: hdr.Histogram): DriverResult['latencyMs'] {
  return {
    p50: h.getValueAtPercentile(50) / 1000,
    p95: h.getValueAtPercentile(95) / 1000,
    p99: h.getValueAtPercentile(99) / 1000,
    max: h.maxValue / 1000,
    mean: h.mean / 1000,
  };
}
