/**
 * The benchmark's result: one flat object (what --out writes, snake_case, the
 * fields issue 5 names first), the pass/fail verdict, and the table printed
 * at the end.
 */
import type { SignalCounts } from './protocol.js';

export interface BenchResult {
  /** The store the server used, and (PostgreSQL) how many sidecars shared it and the CPU the server's processes took. */
  store?: string;
  instances?: number;
  store_cpu_percent?: number;
  /** CPU per committed record (ns) over the measured window: the whole server process, PostgreSQL's processes, the writer thread by part. */
  server_cpu_ns_per_record: number;
  store_cpu_ns_per_record?: number;
  writer_cpu_ns_per_record: { merge: number; commit: number; query: number; other: number; total: number };
  offered_records: number;
  accepted_records: number;
  committed_records: number;
  lost_records: number;
  committed_eps: number;
  requests_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  cpu_percent: number;
  rss_peak_mb: number;
  writer_commit_p99_ms: number;
  writer_lag_max_ms: number;
  query_p95_ms: number;
  db_bytes: number;
  wal_bytes_max: number;
  // ---- context
  pass: boolean;
  failures: string[];
  mode: 'closed' | 'open';
  offered_eps: number;
  accepted_eps: number;
  warmup_s: number;
  /** Records accepted during the warm-up: in offered/accepted/committed, not in the rates. */
  warmup_accepted_records: number;
  duration_s: number;
  /** From the end of the load to the server's exit after SIGTERM (drain, commit, checkpoint). */
  drain_ms: number;
  /** Records the server itself counted as accepted (keytally_records_total) just before SIGTERM. */
  server_accepted_records: number;
  accepted_by_signal: SignalCounts;
  committed_by_signal: SignalCounts;
  requests_ok: number;
  requests_non2xx: number;
  status_counts: Record<string, number>;
  client_errors: number;
  client_timeouts: number;
  paced_late_requests: number;
  mean_ms: number;
  request_mb_per_s: number;
  query_count: number;
  query_errors: number;
  query_p50_ms: number;
  query_p99_ms: number;
  query_max_ms: number;
  cpu_seconds: number;
  /** CPU of the load driver child and of this process (reader, sampling), in % of one core. */
  driver_cpu_percent: number;
  bench_cpu_percent: number;
  /** CPU used by everything else on the machine during the load (% of one core): noise in the figures. */
  other_cpu_percent: number;
  cores: number;
  loadavg_1m_before: number;
  body_bytes_mean: number;
  body_raw_bytes_mean: number;
  pool_bodies: number;
  pool_generate_ms: number;
  config: Record<string, unknown>;
  server_args: string[];
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Verdict: the floor and nothing lost (issue 5, §npm run bench, point 5). */
export function verdict(r: Pick<BenchResult, 'committed_eps' | 'lost_records' | 'committed_records' | 'accepted_records' | 'server_accepted_records'>, floor: number): string[] {
  const failures: string[] = [];
  if (r.committed_eps < floor) failures.push(`committed_eps ${Math.round(r.committed_eps)} is below the floor of ${floor}`);
  if (r.lost_records > 0) failures.push(`${r.lost_records} accepted records were not committed`);
  if (r.committed_records > Math.max(r.accepted_records, r.server_accepted_records)) {
    failures.push(`committed ${r.committed_records} records, more than were accepted (${r.accepted_records} by the client, ${r.server_accepted_records} by the server): counted twice?`);
  }
  return failures;
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const n1 = (x: number) => x.toFixed(1);
const mb = (x: number) => `${(x / 1024 / 1024).toFixed(1)} MB`;

function cpuPerRecord(r: BenchResult): string {
  const w = r.writer_cpu_ns_per_record;
  const writer = `writer ${n0(w.total)} (merge ${n0(w.merge)}, commit ${n0(w.commit)}, query ${n0(w.query)}, other ${n0(w.other)})`;
  return `server ${n0(r.server_cpu_ns_per_record)} ns, of which ${writer}${r.store_cpu_ns_per_record !== undefined ? `; PostgreSQL ${n0(r.store_cpu_ns_per_record)} ns` : ''}`;
}

export function table(r: BenchResult): string {
  const rows: Array<[string, string]> = [
    ['mode', r.mode === 'open' ? `open loop, ${n0(r.offered_eps)} records/s offered` : `closed loop, ${String(r.config['connections'])} connections`],
    ['duration', `${r.duration_s.toFixed(2)} s measured after ${r.warmup_s} s warm-up (drain after load ${n0(r.drain_ms)} ms)`],
    ['offered records', n0(r.offered_records)],
    ['accepted records', `${n0(r.accepted_records)} (server counted ${n0(r.server_accepted_records)})`],
    ['committed records', n0(r.committed_records)],
    ['lost records', n0(r.lost_records)],
    ['committed records/s', `${n0(r.committed_eps)} (accepted ${n0(r.accepted_eps)})`],
    ['requests/s', `${n1(r.requests_per_s)} (${n0(r.requests_non2xx)} non-2xx${r.client_errors ? `, ${r.client_errors} errors` : ''})`],
    ['latency p50/p95/p99/max', `${n1(r.p50_ms)} / ${n1(r.p95_ms)} / ${n1(r.p99_ms)} / ${n1(r.max_ms)} ms`],
    ['CPU server / driver / bench / other', `${n0(r.cpu_percent)} / ${n0(r.driver_cpu_percent)} / ${n0(r.bench_cpu_percent)} / ${n0(r.other_cpu_percent)} % of one core (${r.cores} cores)`],
    ['CPU per committed record', cpuPerRecord(r)],
    ['server RSS peak', `${n1(r.rss_peak_mb)} MB`],
    ['writer commit p99 (max seen)', `${n1(r.writer_commit_p99_ms)} ms`],
    ['writer lag max', `${n0(r.writer_lag_max_ms)} ms`],
    ['API query p50/p95/max', `${n1(r.query_p50_ms)} / ${n1(r.query_p95_ms)} / ${n1(r.query_max_ms)} ms (${r.query_count} queries${r.query_errors ? `, ${r.query_errors} errors` : ''})`],
    ['database / WAL max', `${mb(r.db_bytes)} / ${mb(r.wal_bytes_max)}`],
    ['body size', `${n0(r.body_bytes_mean)} B sent, ${n0(r.body_raw_bytes_mean)} B decoded`],
    ...(r.store ? ([['store', `${r.store}${r.instances && r.instances > 1 ? `, ${r.instances} instances (CPU and RSS above: the first)` : ''}${r.store_cpu_percent !== undefined ? `; PostgreSQL processes ${n0(r.store_cpu_percent)} % of one core` : ''}`]] as Array<[string, string]>) : []),
    ['result', r.pass ? 'PASS' : `FAIL: ${r.failures.join('; ')}`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
