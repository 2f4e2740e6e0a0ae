/**
 * /metrics: prom-client's registry with the front end's counters plus gauges
 * and counters filled at scrape time from what the writer and workers report
 * by message (prom-client's aggregator covers cluster only, not threads).
 */
import { collectDefaultMetrics, Counter, Gauge, type Registry } from 'prom-client';
import type { IngestMetrics } from './ingest-metrics.js';
import type { Pipeline } from './pipeline.js';
import type { WriterStats } from '../model/messages.js';

const QUANTILES = [0.5, 0.9, 0.99, 0.999];

export class MetricsExporter {
  readonly registry: Registry;
  readonly contentType: string;

  constructor(ingest: IngestMetrics, pipeline: Pipeline) {
    const registry = ingest.registry;
    this.registry = registry;
    this.contentType = registry.contentType;
    collectDefaultMetrics({ register: registry, prefix: 'keytally_process_' });
    const stats = (): WriterStats | undefined => pipeline.latestStats;
    const registers = [registry];

    new Gauge({
      name: 'keytally_request_duration_seconds',
      help: 'OTLP/HTTP request latency quantiles since start (HdrHistogram), by signal.',
      labelNames: ['signal', 'quantile'] as const,
      registers,
      collect() {
        for (const [signal, h] of ingest.latencyHistograms) {
          if (h.totalCount === 0) continue;
          for (const q of QUANTILES) this.set({ signal, quantile: String(q) }, h.getValueAtPercentile(q * 100) / 1e6);
        }
      },
    });
    new Gauge({
      name: 'keytally_worker_queue_depth',
      help: 'Requests waiting for an ingest worker.',
      registers,
      collect() {
        this.set(pipeline.poolStats().queueSize);
      },
    });
    new Gauge({
      name: 'keytally_inflight_bytes',
      help: 'Request bytes received and not yet folded by a worker.',
      registers,
      collect() {
        this.set(pipeline.poolStats().inflightBytes);
      },
    });
    new Gauge({
      name: 'keytally_worker_utilization_ratio',
      help: 'Piscina pool utilization (0-1).',
      registers,
      collect() {
        this.set(pipeline.poolStats().utilization);
      },
    });
    new Gauge({
      name: 'keytally_worker_threads',
      help: 'Ingest worker threads running.',
      registers,
      collect() {
        this.set(pipeline.poolStats().threads);
      },
    });
    new Counter({
      name: 'keytally_worker_restarts_total',
      help: 'Ingest workers replaced after they died.',
      registers,
      collect() {
        this.reset();
        this.inc(pipeline.workerRestarts);
      },
    });
    const fromWriter = (name: string, help: string, kind: 'counter' | 'gauge', pick: (s: WriterStats) => number) => {
      const Cls = kind === 'counter' ? Counter : Gauge;
      new Cls({
        name,
        help,
        registers,
        collect(this: Counter | Gauge) {
          const s = stats();
          if (!s) return;
          this.reset();
          if (this instanceof Gauge) this.set(pick(s));
          else this.inc(pick(s));
        },
      });
    };
    fromWriter('keytally_writer_batches_total', 'Delta batches folded by the writer.', 'counter', (s) => s.batches);
    fromWriter('keytally_writer_rows_total', 'Rows upserted by the writer.', 'counter', (s) => s.rows);
    fromWriter('keytally_writer_commit_seconds_p99', 'p99 of the last 1024 writer commit durations.', 'gauge', (s) => s.commitMsP99 / 1000);
    fromWriter('keytally_writer_lag_seconds', 'Longest wait of a delta batch before its commit in the last interval.', 'gauge', (s) => s.lagMsMax / 1000);
    fromWriter('keytally_writer_backlog_batches', 'Delta batches received and not yet committed.', 'gauge', (s) => s.backlog);
    fromWriter('keytally_wal_bytes', 'Size of the SQLite write-ahead log.', 'gauge', (s) => s.walBytes);
    fromWriter('keytally_database_bytes', 'Size of the SQLite database file.', 'gauge', (s) => s.dbBytes);
    fromWriter('keytally_wal_checkpoints_total', 'WAL truncating checkpoints run by the writer.', 'counter', (s) => s.checkpoints);
    fromWriter('keytally_templates', 'Log templates held by the canonical miners.', 'gauge', (s) => s.templates);
    fromWriter('keytally_keys', 'Keys (service, scope, key) tracked.', 'gauge', (s) => s.keys);
    fromWriter('keytally_miner_evictions_total', 'Templates evicted by the workers\u2019 miners (LRU).', 'counter', (s) => s.minerEvictions);
    fromWriter('keytally_miner_overflow_total', 'Log lines counted under the overflow template.', 'counter', (s) => s.minerOverflow);
    fromWriter('keytally_truncated_attributes_total', 'Attributes dropped because a record had too many.', 'counter', (s) => s.truncatedAttributes);
    const committed = new Counter({
      name: 'keytally_committed_records_total',
      help: 'Records whose deltas the writer has committed, by signal.',
      labelNames: ['signal'] as const,
      registers,
      collect() {
        const s = stats();
        if (!s) return;
        this.reset();
        for (const signal of ['logs', 'metrics', 'traces'] as const) this.inc({ signal }, s.records[signal]);
      },
    });
    void committed;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
