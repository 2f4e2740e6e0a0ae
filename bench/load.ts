/**
 * `npm run bench`: end-to-end load benchmark of the sidecar as a user runs it.
 *
 *   npm run build && npm run bench -- [--duration 15] [--connections 16 | --rate 30000]
 *     [--protocol http|grpc] [--client lean|autocannon] [--batch 512] [--format protobuf|json] [--gzip] [--mix logs=1,metrics=0,traces=0]
 *     [--workers N] [--flush-ms MS] [--ack accepted|durable] [--store sqlite|memory|postgres]
 *     [--postgres-url URL] [--instances N]
 *     [--out result.json] [--keep]
 *
 * 1. starts `keytally serve` on a fresh temporary data directory;
 * 2. a driver child process pre-generates a pool of distinct OTLP bodies, then
 *    drives the server with its lean HTTP/1.1 client, or autocannon with
 *    --client autocannon (closed loop, or open loop at --rate);
 *    meanwhile this process queries the API in a loop and samples the server's
 *    CPU, RSS, files and /metrics, printing a progress line a second;
 * 3. stops the server with SIGTERM (which drains and commits everything
 *    accepted), then reads the database read-only (SQLite file, PostgreSQL;
 *    the memory store: its API, before the stop, once all is committed) and
 *    checks that the records committed equal the records accepted;
 *    PostgreSQL without --postgres-url: a temporary cluster (scripts/postgres.sh),
 *    whose processes' CPU is reported; --instances N: N sidecars on it, each
 *    driven by its own driver with a share of the connections;
 * 4. prints a table, writes --out, and exits 1 under the floor (30,000
 *    committed records/s) or if anything was lost.
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Signal } from '../src/model/otlp.js';
import { Monitor, readMachineCpu, readProc, sumOf } from './load/monitor.js';
import { parseOptions, USAGE, UsageError, type LoadOptions } from './load/options.js';
import type { DriverMessage, DriverResult, ParentMessage, SignalCounts } from './load/protocol.js';
import { ApiReader } from './load/reader.js';
import { profileStages, stageTable } from './load/profile-stages.js';
import { percentile, table, verdict, type BenchResult } from './load/report.js';
import { serverArgs, startSidecar, type SidecarProcess } from './load/server.js';
import { committedInPostgres, committedViaApi, startPostgres, type BenchPostgres } from './load/postgres.js';

const SIGNALS: Signal[] = ['logs', 'metrics', 'traces'];
const say = (line: string) => process.stderr.write(line + '\n');
const loadavg1 = () => loadavg()[0] ?? 0;
const total = (c: SignalCounts) => c.logs + c.metrics + c.traces;

/** Committed records per signal, from the services table (what the API's services list shows). */
function committedCounts(dataDir: string): SignalCounts {
  const db = new Database(join(dataDir, 'keytally.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db
      .prepare('SELECT COALESCE(SUM(log_records), 0) AS logs, COALESCE(SUM(metric_points), 0) AS metrics, COALESCE(SUM(spans), 0) AS traces FROM services')
      .get() as SignalCounts;
    return { logs: Number(row.logs), metrics: Number(row.metrics), traces: Number(row.traces) };
  } finally {
    db.close();
  }
}

function progressLine(m: Extract<DriverMessage, { type: 'progress' }>, prevOk: number, prevAt: number, mon: Monitor, batchRecords: number): string {
  const dt = (m.elapsedMs - prevAt) / 1000;
  const eps = dt > 0 ? ((m.ok - prevOk) * batchRecords) / dt : 0;
  const s = mon.state;
  const committed = sumOf(s.last, 'keytally_committed_records_total');
  const p = s.proc;
  return (
    `[${(m.elapsedMs / 1000).toFixed(0).padStart(3)}s] accepted ${(eps / 1000).toFixed(0).padStart(4)}k rec/s` +
    `  total ${total(m.accepted).toLocaleString('en-US')}  non-2xx ${m.non2xx}` +
    `  committed ${committed.toLocaleString('en-US')}` +
    `  rss ${p ? (p.rssBytes / 1048576).toFixed(0) : '?'} MB  wal ${(s.walBytesMax / 1048576).toFixed(1)} MB` +
    `  lag ${((s.last.get('keytally_writer_lag_seconds') ?? 0) * 1000).toFixed(0)} ms`
  );
}

/** Adds the counts of another driver's result into `a` (a fleet's drivers run side by side). */
function addResult(a: DriverResult, b: DriverResult): void {
  a.responses += b.responses;
  a.ok += b.ok;
  a.non2xx += b.non2xx;
  a.errors += b.errors;
  a.timeouts += b.timeouts;
  for (const s of SIGNALS) {
    a.offered[s] += b.offered[s];
    a.accepted[s] += b.accepted[s];
  }
  for (const [k, v] of Object.entries(b.statusCounts)) a.statusCounts[k] = (a.statusCounts[k] ?? 0) + v;
}

interface WriterCpuSample {
  seconds: { merge: number; commit: number; query: number; other: number };
  records: number;
}

/** The writer thread's CPU by part and the records it had committed, from one scrape of /metrics (one stats message). */
function writerCpu(m: Map<string, number>): WriterCpuSample {
  const part = (p: string) => m.get(`keytally_writer_cpu_seconds_total{part="${p}"}`) ?? 0;
  return { seconds: { merge: part('merge'), commit: part('commit'), query: part('query'), other: part('other') }, records: sumOf(m, 'keytally_committed_records_total') };
}

async function main(o: LoadOptions): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keytally-bench-'));
  if (o.cpuProf) mkdirSync(resolve(o.cpuProf), { recursive: true });
  let server: SidecarProcess | undefined;
  const extraServers: SidecarProcess[] = [];
  const extraDirs: string[] = [];
  let pgBench: BenchPostgres | undefined;
  const forkDriver = () => fork(new URL('./load/driver.js', import.meta.url), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const driver = forkDriver();
  const extraDrivers = Array.from({ length: o.instances - 1 }, forkDriver);
  const cleanup = () => {
    for (const d of [driver, ...extraDrivers]) if (d.exitCode === null) d.kill('SIGKILL');
    for (const sv of [server, ...extraServers]) if (sv && sv.proc.exitCode === null) sv.proc.kill('SIGKILL');
    if (!o.keep) for (const d of [dataDir, ...extraDirs]) rmSync(d, { recursive: true, force: true });
    pgBench?.stop();
  };
  process.once('SIGINT', () => {
    say('interrupted');
    cleanup();
    process.exit(130);
  });
  try {
    if (o.store === 'postgres' && o.postgresUrl === undefined) {
      pgBench = await startPostgres();
      o = { ...o, postgresUrl: pgBench.url };
      say(`PostgreSQL: temporary cluster at ${pgBench.url}`);
    }
    server = await startSidecar({ ...o, cpuProf: o.cpuProf ? resolve(o.cpuProf) : undefined }, dataDir);
    say(`keytally pid ${server.pid} otlp=${server.otlpPort} grpc=${server.grpcPort} api=${server.apiPort} data=${dataDir}`);
    for (let i = 1; i < o.instances; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'keytally-bench-'));
      extraDirs.push(dir);
      const sv = await startSidecar(o, dir);
      extraServers.push(sv);
      say(`keytally #${i + 1} pid ${sv.pid} otlp=${sv.otlpPort}`);
    }
    // A fleet splits the connections (or the rate) between its instances.
    const share = { connections: Math.max(1, Math.ceil(o.connections / o.instances)), rate: o.rate / o.instances };

    // ---------------------------------------------------------------- pool
    const messages: DriverMessage[] = [];
    let wake: (() => void) | undefined;
    driver.on('message', (m: DriverMessage) => {
      messages.push(m);
      wake?.();
    });
    const driverExit = new Promise<void>((r) => driver.once('exit', () => r()));
    const nextMessage = async (): Promise<DriverMessage> => {
      while (messages.length === 0) {
        const woke = new Promise<void>((r) => (wake = r));
        const exited = driverExit.then(() => 'exit' as const);
        if ((await Promise.race([woke, exited])) === 'exit' && messages.length === 0) throw new Error('the load driver exited unexpectedly');
      }
      return messages.shift()!;
    };
    const sendDriver = (m: ParentMessage) => driver.send(m);
    const initFor = (sv: SidecarProcess, seed: number): ParentMessage => ({
      type: 'init',
      init: {
        protocol: o.protocol,
        client: o.client,
        url: `http://127.0.0.1:${o.protocol === 'grpc' ? sv.grpcPort : sv.otlpPort}`,
        mix: o.mix, pool: o.pool, batch: o.batch, format: o.format, gzip: o.gzip, seed,
        connections: share.connections, rate: share.rate, duration: o.duration, warmup: o.warmup,
      },
    });
    sendDriver(initFor(server, o.seed));
    // The other instances' drivers: the same load shape with their own seeds; their results are added at the end.
    const extraDone = extraDrivers.map(
      (d, i) =>
        new Promise<{ warm?: DriverResult; done: DriverResult }>((res, rej) => {
          let warmR: DriverResult | undefined;
          d.on('message', (m: DriverMessage) => {
            if (m.type === 'warmed') warmR = m.result;
            else if (m.type === 'done') res({ warm: warmR, done: m.result });
            else if (m.type === 'error') rej(new Error(`load driver #${i + 2}: ${m.message}`));
          });
          d.once('exit', () => rej(new Error(`load driver #${i + 2} exited`)));
        }),
    );
    for (const p of extraDone) p.catch(() => undefined);
    const extraReady = extraDrivers.map((d) => new Promise<void>((res) => d.on('message', (m: DriverMessage) => m.type === 'ready' && res())));
    extraDrivers.forEach((d, i) => d.send(initFor(extraServers[i]!, o.seed + 1000 * (i + 1))));
    await Promise.all(extraReady);
    const ready = await nextMessage();
    if (ready.type === 'error') throw new Error(`load driver: ${ready.message}`);
    if (ready.type !== 'ready') throw new Error(`load driver: unexpected ${ready.type}`);
    say(
      `pool: ${ready.bodies} bodies (${SIGNALS.filter((s) => ready.bodiesPerSignal[s] > 0).map((s) => `${s} ${ready.bodiesPerSignal[s]}`).join(', ')}) of ${o.batch} records,` +
        ` ${(ready.bytes / ready.bodies / 1024).toFixed(1)} KiB each${o.gzip ? ` (${(ready.rawBytes / ready.bodies / 1024).toFixed(1)} KiB raw)` : ''}, ${o.format}, generated in ${ready.generateMs.toFixed(0)} ms`,
    );
    say(`protocol: ${o.protocol === 'grpc' ? 'OTLP/gRPC' : `OTLP/HTTP (${o.client === 'lean' ? "keytally's lean client" : 'autocannon'})`}`);
    say(o.rate > 0 ? `open loop at ${o.rate} records/s (${(o.rate / o.batch).toFixed(1)} requests/s) for ${o.duration} s` : `closed loop, ${o.connections} connections, ${o.duration} s`);

    // ---------------------------------------------------------------- load
    const monitor = new Monitor(server.pid, server.apiPort, dataDir);
    const reader = o.reader ? new ApiReader(server.apiPort, o.readerPauseMs) : undefined;
    // Baselines of the measured window, taken when it starts (after the warm-up).
    let cpu0 = 0;
    let driverCpu0 = 0;
    let selfCpu0 = process.cpuUsage();
    let machine0 = readMachineCpu();
    let t0 = 0;
    let storeCpu0 = 0;
    let writer0 = writerCpu(monitor.state.last);
    const loadavg = loadavg1();
    const startWindow = () => {
      cpu0 = readProc(server!.pid)?.cpuSeconds ?? 0;
      storeCpu0 = pgBench?.cpuSeconds() ?? 0;
      // The writer's CPU and its committed records, from one stats message (the last scrape, at most a second old).
      writer0 = writerCpu(monitor.state.last);
      // The generator's own CPU: if it nears a full core, the client, not the server, is the limit.
      driverCpu0 = readProc(driver.pid!)?.cpuSeconds ?? 0;
      selfCpu0 = process.cpuUsage();
      // Everything else on the machine: other processes competing for the cores make the figures pessimistic.
      machine0 = readMachineCpu();
      t0 = performance.now();
      monitor.resetWindow();
      reader?.reset();
    };
    monitor.start();
    reader?.start();
    sendDriver({ type: 'go' });
    for (const d of extraDrivers) d.send({ type: 'go' } satisfies ParentMessage);
    if (o.warmup > 0) say(`warm-up: ${o.warmup} s`);
    else startWindow();
    let warm: DriverResult | undefined;
    let result: DriverResult | undefined;
    let prevOk = 0;
    let prevAt = 0;
    while (!result) {
      const m = await nextMessage();
      if (m.type === 'progress') {
        say((o.warmup > 0 && !warm ? 'warm-up ' : '') + progressLine(m, prevOk, prevAt, monitor, o.batch));
        prevOk = m.ok;
        prevAt = m.elapsedMs;
      } else if (m.type === 'warmed') {
        warm = m.result;
        prevOk = 0;
        prevAt = 0;
        say(`warm-up done: ${total(warm.accepted).toLocaleString('en-US')} records accepted; measuring for ${o.duration} s`);
        startWindow();
      } else if (m.type === 'done') result = m.result;
      else if (m.type === 'error') throw new Error(`load driver: ${m.message}`);
    }
    const loadWallS = (performance.now() - t0) / 1000;
    const storeCpu1 = pgBench?.cpuSeconds() ?? 0;
    // The other instances ran the same windows side by side: their counts add to the first one's.
    for (const { warm: w, done } of await Promise.all(extraDone)) {
      addResult(result, done);
      if (w && warm) addResult(warm, w);
    }
    const cpu1 = readProc(server.pid)?.cpuSeconds ?? cpu0;
    const driverCpu1 = readProc(driver.pid!)?.cpuSeconds ?? driverCpu0;
    const selfCpu = process.cpuUsage(selfCpu0);
    const machine1 = readMachineCpu();
    const warmAccepted: SignalCounts = warm ? warm.accepted : { logs: 0, metrics: 0, traces: 0 };
    const warmOffered = warm ? total(warm.offered) : 0;
    const queries = reader ? await reader.stop() : { queries: 0, errors: 0, latenciesMs: [] as number[] };
    // The last view of the running server: its own count of accepted records, the writer's latest stats.
    monitor.sampleProc();
    const final = (await monitor.scrape()) ?? monitor.state.last;
    monitor.stop();

    // ---------------------------------------------------------------- drain
    // The memory store's counts go with its process: read them from its API first, once all is committed.
    const inMemory = o.store === 'memory' ? await committedViaApi(server.apiPort) : undefined;
    const tStop = performance.now();
    const exitCode = await server.stop();
    const drainMs = performance.now() - tStop;
    if (exitCode !== 0) throw new Error(`keytally exited with ${exitCode} after SIGTERM:\n${server.output()}`);
    for (const sv of extraServers) {
      const code = await sv.stop();
      if (code !== 0) throw new Error(`keytally exited with ${code} after SIGTERM:\n${sv.output()}`);
    }
    const committed = inMemory ?? (o.store === 'postgres' ? await committedInPostgres(o.postgresUrl!) : committedCounts(dataDir));

    // ---------------------------------------------------------------- result
    const durationS = result.durationMs / 1000;
    // Loss is checked over everything sent (warm-up included); rates and latencies over the measured window only.
    const measuredAccepted = total(result.accepted);
    const accepted = measuredAccepted + total(warmAccepted);
    const serverAccepted = sumOf(final, 'keytally_records_total');
    const committedTotal = total(committed);
    const st = monitor.state;
    const writer1 = writerCpu(final);
    const windowCommitted = committedTotal - total(warmAccepted);
    const writerRecords = Math.max(1, writer1.records - writer0.records);
    const perWriterRecord = (part: keyof WriterCpuSample['seconds']) => ((writer1.seconds[part] - writer0.seconds[part]) * 1e9) / writerRecords;
    const bodyMean = ready.bytes / ready.bodies;
    const partial: Omit<BenchResult, 'pass' | 'failures'> = {
      store: o.store ?? 'sqlite',
      instances: o.instances,
      ...(pgBench ? { store_cpu_percent: ((storeCpu1 - storeCpu0) / loadWallS) * 100 } : {}),
      server_cpu_ns_per_record: ((cpu1 - cpu0) * 1e9) / Math.max(1, windowCommitted),
      ...(pgBench ? { store_cpu_ns_per_record: ((storeCpu1 - storeCpu0) * 1e9) / Math.max(1, windowCommitted) } : {}),
      writer_cpu_ns_per_record: {
        merge: perWriterRecord('merge'), commit: perWriterRecord('commit'), query: perWriterRecord('query'), other: perWriterRecord('other'),
        total: perWriterRecord('merge') + perWriterRecord('commit') + perWriterRecord('query') + perWriterRecord('other'),
      },
      offered_records: total(result.offered) + warmOffered,
      accepted_records: accepted,
      committed_records: committedTotal,
      lost_records: Math.max(0, Math.max(accepted, serverAccepted) - committedTotal),
      committed_eps: (committedTotal - total(warmAccepted)) / durationS,
      requests_per_s: result.responses / durationS,
      p50_ms: result.latencyMs.p50,
      p95_ms: result.latencyMs.p95,
      p99_ms: result.latencyMs.p99,
      max_ms: result.latencyMs.max,
      cpu_percent: ((cpu1 - cpu0) / loadWallS) * 100,
      rss_peak_mb: st.rssPeakBytes / 1048576,
      writer_commit_p99_ms: st.commitP99MaxMs,
      writer_lag_max_ms: st.lagMaxMs,
      query_p95_ms: percentile(queries.latenciesMs, 95),
      db_bytes: monitor.dbBytes(),
      wal_bytes_max: st.walBytesMax,
      mode: o.rate > 0 ? 'open' : 'closed',
      offered_eps: total(result.offered) / durationS,
      accepted_eps: measuredAccepted / durationS,
      warmup_s: o.warmup,
      warmup_accepted_records: total(warmAccepted),
      duration_s: durationS,
      drain_ms: drainMs,
      server_accepted_records: serverAccepted,
      accepted_by_signal: { logs: result.accepted.logs + warmAccepted.logs, metrics: result.accepted.metrics + warmAccepted.metrics, traces: result.accepted.traces + warmAccepted.traces },
      committed_by_signal: committed,
      requests_ok: result.ok,
      requests_non2xx: result.non2xx,
      status_counts: result.statusCounts,
      client_errors: result.errors,
      client_timeouts: result.timeouts,
      paced_late_requests: result.pacedLate,
      mean_ms: result.latencyMs.mean,
      request_mb_per_s: (result.responses * bodyMean) / durationS / 1048576,
      query_count: queries.queries,
      query_errors: queries.errors,
      query_p50_ms: percentile(queries.latenciesMs, 50),
      query_p99_ms: percentile(queries.latenciesMs, 99),
      query_max_ms: percentile(queries.latenciesMs, 100),
      cpu_seconds: cpu1 - cpu0,
      driver_cpu_percent: ((driverCpu1 - driverCpu0) / loadWallS) * 100,
      bench_cpu_percent: ((selfCpu.user + selfCpu.system) / 1e6 / loadWallS) * 100,
      other_cpu_percent: Math.max(
        0,
        ((machine1.busy - machine0.busy - (cpu1 - cpu0) - (driverCpu1 - driverCpu0) - (selfCpu.user + selfCpu.system) / 1e6) / loadWallS) * 100,
      ),
      cores: availableParallelism(),
      loadavg_1m_before: loadavg,
      body_bytes_mean: bodyMean,
      body_raw_bytes_mean: ready.rawBytes / ready.bodies,
      pool_bodies: ready.bodies,
      pool_generate_ms: ready.generateMs,
      config: { ...o },
      server_args: serverArgs(o, dataDir),
    };
    // Open loop: the server cannot commit more than is offered, so there it must keep up with the offered rate.
    const floor = o.rate > 0 ? Math.min(o.floor, 0.98 * o.rate) : o.floor;
    if (o.rate > 0 && o.rate < o.floor) say(`note: open loop at ${o.rate} records/s does not exercise the floor of ${o.floor}`);
    const failures = verdict(partial, floor);
    for (const s of SIGNALS) {
      const seen = partial.accepted_by_signal[s];
      if (committed[s] !== seen) failures.push(`${s}: committed ${committed[s]}, client saw ${seen} accepted`);
    }
    if (partial.other_cpu_percent > 20) say(`note: other processes used ${partial.other_cpu_percent.toFixed(0)} % of a core during the run; the figures are pessimistic`);
    if (result.timeouts > 0) say(`note: ${result.timeouts} requests timed out; the server may have accepted them without the client knowing`);
    const out: BenchResult = { ...partial, pass: failures.length === 0, failures };
    process.stdout.write('\n' + table(out) + '\n');
    if (o.out) {
      writeFileSync(o.out, JSON.stringify(out, null, 2) + '\n');
      say(`wrote ${o.out}`);
    }
    if (o.cpuProf) {
      // The profiles cover the server's whole life (warm-up and drain too): per record of everything committed.
      process.stdout.write('\n' + stageTable(profileStages(resolve(o.cpuProf)), committedTotal) + '\n');
    }
    if (o.keep) say(`kept ${dataDir}`);
    return out.pass ? 0 : 1;
  } finally {
    cleanup();
  }
}

let options: LoadOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  if (err.message) say(`bench: ${err.message}`);
  say(USAGE);
  process.exit(2);
}
main(options).then(
  (code) => process.exit(code),
  (err: Error) => {
    say(`bench: ${err.stack ?? err.message}`);
    process.exit(2);
  },
);
