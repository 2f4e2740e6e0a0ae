/**
 * /metrics: prom-client's registry with the front end's counters plus gauges,
 * counters and summaries filled at scrape time from what the writer and the
 * pool report (prom-client's aggregator covers cluster only, not threads, so
 * the writer sends its cumulative totals by message; see WriterStats).
 *
 * Conventions: every name has the keytally_ prefix, counters end in _total,
 * values are in base units (seconds, bytes), and latency quantiles are
 * exported as Prometheus summaries (quantile label plus _sum and _count),
 * which `promtool check metrics` accepts.
 */
import { threadHeap, type ThreadHeap } from '../util/thread-heap.js';
import { collectDefaultMetrics, Counter, Gauge, type Metric, type Registry } from 'prom-client';
import { PROTOCOLS, SIGNALS, type IngestMetrics } from './ingest-metrics.js';
import type { Pipeline } from './pipeline.js';
import { LEVEL_VALUE } from './memory-limiter.js';
import type { WriterStats } from '../model/messages.js';

/** Quantiles exported for request latency (from HdrHistogram, since start). */
export const REQUEST_QUANTILES = [0.5, 0.9, 0.99, 0.999] as const;

/** One label set of a summary: its quantiles, cumulative count and sum (base units). */
export interface SummarySample {
  labels: Record<string, string>;
  count: number;
  sum: number;
  /** [quantile, value]; left out while nothing has been observed. */
  quantiles: Array<readonly [number, number]>;
}

type SummaryValue = { labels: Record<string, string | number>; value: number; metricName?: string };

/**
 * A summary whose quantiles come from elsewhere (HdrHistogram, piscina, the
 * writer's window): prom-client's own Summary computes its quantiles itself
 * from observe() calls, which we do not make. Registered as a custom metric:
 * the registry only needs name, help, type and get().
 */
export class ExternalSummary {
  readonly type = 'summary';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect: () => SummarySample[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: SummaryValue[] }> {
    const values: SummaryValue[] = [];
    for (const s of this.collect()) {
      for (const [q, v] of s.quantiles) values.push({ labels: { ...s.labels, quantile: String(q) }, value: v });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics() calls this; the state lives with the source. */
  reset(): void {}
}

/** Piscina's histogram summary fields for our quantiles (its values are milliseconds). */
const PISCINA_QUANTILES = [
  [0.5, 'p50'],
  [0.9, 'p90'],
  [0.99, 'p99'],
] as const;

export class MetricsExporter {
  readonly registry: Registry;
  readonly contentType: string;

  constructor(ingest: IngestMetrics, pipeline: Pipeline) {
    const registry = ingest.registry;
    this.registry = registry;
    this.contentType = registry.contentType;
    // Process CPU, RSS, fds, heap, GC and event-loop delay: keytally_process_*, keytally_nodejs_*.
    collectDefaultMetrics({ register: registry, prefix: 'keytally_' });
    // prom-client also exports these three as gauges named *_total, which breaks the
    // convention (promtool flags them); the per-type gauges without _total carry the same numbers.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(`keytally_${name}`);
    }
    const stats = (): WriterStats | undefined => pipeline.latestStats;
    const registers = [registry];

    // ------------------------------------------------------------ front end
    new ExternalSummary(
      'keytally_request_duration_seconds',
      'OTLP request latency, by protocol and signal: OTLP/HTTP from request start, OTLP/gRPC from the whole message, to the response; quantiles since start (HdrHistogram).',
      () =>
        PROTOCOLS.flatMap((protocol) => SIGNALS.map((signal) => {
          const { histogram, sumSeconds } = ingest.latencies.get(protocol)!.get(signal)!;
          const count = histogram.totalCount;
          return {
            labels: { protocol, signal },
            count,
            sum: sumSeconds,
            quantiles: count === 0 ? [] : REQUEST_QUANTILES.map((q) => [q, histogram.getValueAtPercentile(q * 100) / 1e6] as const),
          };
        })),
      registry,
    );

    // ------------------------------------------------------------ worker pool
    new Gauge({
      name: 'keytally_worker_queue_depth',
      help: 'Requests waiting for an ingest worker.',
      registers,
      collect() {
        this.set(pipeline.poolStats().queueSize);
      },
    });
    new Gauge({
      name: 'keytally_worker_inflight_requests',
      help: 'Requests handed to the worker pool and not yet answered (queued or running).',
      registers,
      collect() {
        this.set(pipeline.poolStats().inflightTasks);
      },
    });
    new Gauge({
      name: 'keytally_inflight_bytes',
      help: 'Request body bytes handed to the worker pool and not yet answered (the backpressure bound).',
      registers,
      collect() {
        this.set(pipeline.poolStats().inflightBytes);
      },
    });
    new Gauge({
      name: 'keytally_worker_utilization_ratio',
      help: 'Piscina pool utilization since start (0-1): run time over capacity.',
      registers,
      collect() {
        this.set(pipeline.poolUtilization());
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
    // ------------------------------------------------------------ memory limiter
    const memory = pipeline.memory;
    new Gauge({
      name: 'keytally_memory_limiter_state',
      help: 'Memory limiter: 0 accepting, 1 at the soft limit (new requests get 429), 2 over the hard limit (503 until under the soft limit).',
      registers,
      collect() {
        this.set(LEVEL_VALUE[memory.level]);
      },
    });
    new Gauge({
      name: 'keytally_memory_limiter_rss_bytes',
      help: 'Resident set of the whole process (every thread) at the limiter\'s last sample.',
      registers,
      collect() {
        this.set(memory.lastRss);
      },
    });
    new Gauge({
      name: 'keytally_memory_limiter_reserved_bytes',
      help: 'Memory held for requests admitted and not yet done (their bytes times the per-request cost factor).',
      registers,
      collect() {
        this.set(memory.reserved);
      },
    });
    new Gauge({
      name: 'keytally_memory_limiter_limit_bytes',
      help: 'The limiter\'s soft and hard limits (--memory-limit-mb, --memory-soft-percent).',
      labelNames: ['level'],
      registers,
      collect() {
        this.set({ level: 'soft' }, memory.softBytes);
        this.set({ level: 'hard' }, memory.hardBytes);
      },
    });
    new Counter({
      name: 'keytally_memory_limiter_refusals_total',
      help: 'Requests the memory limiter refused: soft (429) and hard (503).',
      labelNames: ['level'],
      registers,
      collect() {
        this.reset();
        this.inc({ level: 'soft' }, memory.refusals.soft);
        this.inc({ level: 'hard' }, memory.refusals.hard);
      },
    });
    const poolSummary = (name: string, help: string, which: 'wait' | 'run') =>
      new ExternalSummary(
        name,
        help,
        () => {
          const t = pipeline.poolTimings();
          const h = t[which];
          // Piscina keeps no exact sum: mean x count is the best it offers. An empty histogram's mean is NaN.
          const count = t.completed;
          const mean = Number.isFinite(h.mean) ? h.mean : 0;
          return [
            {
              labels: {},
              count,
              sum: (mean * count) / 1000,
              quantiles: count === 0 ? [] : PISCINA_QUANTILES.map(([q, field]) => [q, h[field] / 1000] as const),
            },
          ];
        },
        registry,
      );
    poolSummary('keytally_worker_task_wait_seconds', 'Time a request waited in the pool queue for a worker; quantiles since start (piscina).', 'wait');
    poolSummary('keytally_worker_task_run_seconds', 'Time a worker spent on one request (decompress, decode, extract); quantiles since start (piscina).', 'run');

    // ------------------------------------------------------------ writer (reported by message every second)
    // Writer counters are its cumulative totals since start: set, not added, at each scrape.
    const writerCounter = (name: string, help: string, pick: (s: WriterStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const s = stats();
          if (!s) return;
          this.reset();
          this.inc(pick(s));
        },
      });
    const writerGauge = (name: string, help: string, pick: (s: WriterStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const s = stats();
          if (s) this.set(pick(s));
        },
      });
    writerCounter('keytally_writer_batches_total', 'Delta batches received from the workers by the writer.', (s) => s.batches);
    writerCounter('keytally_writer_rows_total', 'Rows upserted by the writer.', (s) => s.rows);
    new ExternalSummary(
      'keytally_writer_commit_duration_seconds',
      'Duration of the writer\u2019s commits; quantiles over the last 1024 commits, count and sum since start.',
      () => {
        const s = stats();
        if (!s) return [{ labels: {}, count: 0, sum: 0, quantiles: [] }];
        return [
          {
            labels: {},
            count: s.commits,
            sum: s.commitMsSum / 1000,
            quantiles: s.commits === 0 ? [] : ([[0.5, s.commitMsP50 / 1000], [0.9, s.commitMsP90 / 1000], [0.99, s.commitMsP99 / 1000]] as const).slice(),
          },
        ];
      },
      registry,
    );
    writerGauge('keytally_writer_lag_seconds', 'Longest wait of a delta batch between its arrival at the writer and its commit (or now, if still waiting), over the last second.', (s) => s.lagMsMax / 1000);
    writerGauge('keytally_writer_backlog_batches', 'Delta batches received by the writer and not yet committed.', (s) => s.backlog);
    writerGauge('keytally_wal_bytes', 'Size of the SQLite write-ahead log.', (s) => s.walBytes);
    writerGauge('keytally_database_bytes', 'Size of the SQLite database file.', (s) => s.dbBytes);
    writerCounter('keytally_wal_checkpoints_total', 'WAL truncating checkpoints run by the writer.', (s) => s.checkpoints);
    writerGauge('keytally_templates', 'Log templates held by the writer\u2019s canonical miners.', (s) => s.templates);
    writerGauge('keytally_keys', 'Keys (service, scope, key) tracked.', (s) => s.keys);
    writerCounter('keytally_miner_evictions_total', 'Templates evicted by the workers\u2019 miners (LRU), as reported to the writer.', (s) => s.minerEvictions);
    writerCounter('keytally_miner_overflow_total', 'Log lines counted under the overflow template (too long, or no room for a cluster).', (s) => s.minerOverflow);
    if (pipeline.config.clickhouseUrl) {
      const m = (f: (x: NonNullable<WriterStats['mirror']>) => number) => (s: WriterStats) => (s.mirror ? f(s.mirror) : 0);
      writerGauge('keytally_mirror_up', 'Whether the ClickHouse mirror\u2019s last round reached ClickHouse (1) or failed (0).', m((x) => (x.up ? 1 : 0)));
      writerGauge('keytally_mirror_buffered_rows', 'History buckets waiting to be sent to ClickHouse (bounded by --clickhouse-buffer-rows).', m((x) => x.bufferedRows));
      writerCounter('keytally_mirror_sent_rows_total', 'History buckets inserted into ClickHouse.', m((x) => x.sentRows));
      writerCounter('keytally_mirror_failed_inserts_total', 'Mirror rounds that failed (ClickHouse down, slow or refusing); retried with backoff.', m((x) => x.failedInserts));
      writerCounter('keytally_mirror_dropped_rows_total', 'Buffered buckets dropped past the buffer bound (re-read from the primary store when ClickHouse is back).', m((x) => x.droppedRows));
      writerCounter('keytally_mirror_resyncs_total', 'Resyncs of the mirror from the primary store after a dropped buffer.', m((x) => x.resyncs));
      writerCounter('keytally_mirror_dropped_partitions_total', 'ClickHouse partitions dropped for the mirror\u2019s retention.', m((x) => x.droppedPartitions));
    }
    writerCounter('keytally_history_dropped_rows_total', 'History buckets (rows of every level) dropped by retention.', (s) => s.historyRowsDropped);
    new Counter({
      name: 'keytally_writer_cpu_seconds_total',
      help: 'CPU time of the writer thread by part: merge (folding worker batches), commit (store commits and housekeeping), query (answering the API, memory store), other. Linux only (0 elsewhere).',
      labelNames: ['part'] as const,
      registers,
      collect() {
        const s = stats();
        this.reset();
        if (s) for (const [part, sec] of Object.entries(s.cpu)) this.inc({ part }, sec);
      },
    });
    writerCounter('keytally_truncated_attributes_total', 'Attributes dropped past --max-attributes, plus keys, values and service names cut to their length limits.', (s) => s.truncatedAttributes);
    // ------------------------------------------------------------ store health, labelled by backend
    const backend = { backend: pipeline.config.store };
    new ExternalSummary(
      'keytally_store_commit_duration_seconds',
      'Duration of the store\u2019s commits (write latency); quantiles over the last 1024 commits, count and sum since start.',
      () => {
        const s = stats();
        if (!s) return [{ labels: backend, count: 0, sum: 0, quantiles: [] }];
        const quantiles = s.commits === 0 ? [] : ([[0.5, s.commitMsP50 / 1000], [0.9, s.commitMsP90 / 1000], [0.99, s.commitMsP99 / 1000]] as const).slice();
        return [{ labels: backend, count: s.commits, sum: s.commitMsSum / 1000, quantiles }];
      },
      registry,
    );
    new ExternalSummary(
      'keytally_store_query_duration_seconds',
      'Duration of API requests answered from the store (read latency); quantiles over the last 1024, count and sum since start of the reader thread.',
      () => {
        const q = pipeline.readerQueries;
        if (!q) return [{ labels: backend, count: 0, sum: 0, quantiles: [] }];
        const quantiles = q.count === 0 ? [] : ([[0.5, q.msP50 / 1000], [0.9, q.msP90 / 1000], [0.99, q.msP99 / 1000]] as const).slice();
        return [{ labels: backend, count: q.count, sum: q.msSum / 1000, quantiles }];
      },
      registry,
    );
    const storeGauge = (name: string, help: string, pick: (s: WriterStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['backend'] as const,
        registers,
        collect() {
          const s = stats();
          if (s) this.set(backend, pick(s));
        },
      });
    const storeCounter = (name: string, help: string, pick: () => number | undefined) =>
      new Counter({
        name,
        help,
        labelNames: ['backend'] as const,
        registers,
        collect() {
          this.reset();
          this.inc(backend, pick() ?? 0);
        },
      });
    storeGauge('keytally_store_bytes', 'Bytes the store holds: the SQLite file, the memory store\u2019s estimate, the PostgreSQL tables.', (s) => s.dbBytes + s.walBytes);
    storeCounter('keytally_store_write_errors_total', 'Failed commits.', () => stats()?.store.errors);
    storeCounter('keytally_store_read_errors_total', 'API requests the store could not answer (5xx).', () => pipeline.readerQueries?.errors);
    storeCounter('keytally_store_reconnects_total', 'Times the store connection was re-established after a failure.', () => stats()?.store.reconnects);
    storeCounter('keytally_store_evictions_total', 'Rows the store dropped to stay within its bound (memory store: least recently updated first).', () => stats()?.store.evictions);
    // ------------------------------------------------------------ threads
    // RSS is one figure for the process; each thread's V8 heap says which one holds the memory.
    new Gauge({
      name: 'keytally_thread_heap_bytes',
      help: 'V8 heap of each thread: used (live objects and uncollected garbage), total (committed), external (ArrayBuffers and other off-heap memory). Workers report with their last batch, the reader every 2 s, the writer every second.',
      labelNames: ['thread', 'kind'] as const,
      registers,
      collect() {
        this.reset();
        const heaps: Record<string, ThreadHeap> = { main: threadHeap(), ...stats()?.heaps };
        if (pipeline.readerHeap) heaps['reader'] = pipeline.readerHeap;
        for (const [thread, h] of Object.entries(heaps)) {
          this.set({ thread, kind: 'used' }, h.used);
          this.set({ thread, kind: 'total' }, h.total);
          this.set({ thread, kind: 'external' }, h.external);
        }
      },
    });
    new Counter({
      name: 'keytally_committed_records_total',
      help: 'Records whose deltas the writer has committed to the store, by signal.',
      labelNames: ['signal'] as const,
      registers,
      collect() {
        const s = stats();
        this.reset();
        for (const signal of SIGNALS) this.inc({ signal }, s ? s.records[signal] : 0);
      },
    });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
