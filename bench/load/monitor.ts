/**
 * Watches the sidecar while the load runs: its CPU and RSS from /proc (the
 * whole process, every thread), the sizes of the database and its WAL, and
 * the server's own /metrics (writer commit latency and lag, committed and
 * accepted records), which is what a user's Prometheus would see.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Clock ticks per second for /proc/PID/stat (USER_HZ, 100 on Linux). */
const CLK_TCK = 100;

export interface ProcSample {
  /** utime + stime in seconds. */
  cpuSeconds: number;
  rssBytes: number;
  /** VmHWM: the peak RSS the kernel saw. */
  hwmBytes: number;
}

export function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { cpuSeconds: ticks / CLK_TCK, rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Machine-wide CPU seconds, busy and total (all cores), from the first line of /proc/stat. */
export function readMachineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: idle and iowait are the not-busy part.
    const totalTicks = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: (totalTicks - idle) / CLK_TCK, total: totalTicks / CLK_TCK };
  } catch {
    return { busy: 0, total: 0 };
  }
}

function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Prometheus text exposition → value by `name{labels}` as printed. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    const v = Number(line.slice(sp + 1));
    if (Number.isFinite(v)) out.set(line.slice(0, sp), v);
  }
  return out;
}

/** Sum of every series of a metric name (all label sets). */
export function sumOf(m: Map<string, number>, name: string): number {
  let total = 0;
  for (const [k, v] of m) if (k === name || k.startsWith(name + '{')) total += v;
  return total;
}

export interface MonitorState {
  rssPeakBytes: number;
  walBytesMax: number;
  dbBytesMax: number;
  commitP99MaxMs: number;
  lagMaxMs: number;
  scrapes: number;
  scrapeErrors: number;
  /** The last /metrics scrape. */
  last: Map<string, number>;
  /** Latest /proc sample. */
  proc: ProcSample | undefined;
}

export class Monitor {
  readonly state: MonitorState = {
    rssPeakBytes: 0,
    walBytesMax: 0,
    dbBytesMax: 0,
    commitP99MaxMs: 0,
    lagMaxMs: 0,
    scrapes: 0,
    scrapeErrors: 0,
    last: new Map(),
    proc: undefined,
  };
  private procTimer: NodeJS.Timeout | undefined;
  private scrapeTimer: NodeJS.Timeout | undefined;
  private readonly dbFile: string;

  constructor(
    private readonly pid: number,
    private readonly apiPort: number,
    dataDir: string,
  ) {
    this.dbFile = join(dataDir, 'keytally.db');
  }

  start(): void {
    // /proc and file sizes are cheap: sample often so short RSS and WAL peaks are seen.
    this.procTimer = setInterval(() => this.sampleProc(), 200);
    // The writer reports its stats once a second; scraping faster would only repeat them.
    this.scrapeTimer = setInterval(() => void this.scrape(), 1000);
  }

  stop(): void {
    clearInterval(this.procTimer);
    clearInterval(this.scrapeTimer);
  }

  /** Starts the measured window: maxima of the writer's figures and the WAL from here on (RSS peak stays whole-run). */
  resetWindow(): void {
    this.state.commitP99MaxMs = 0;
    this.state.lagMaxMs = 0;
    this.state.walBytesMax = 0;
  }

  sampleProc(): ProcSample | undefined {
    const p = readProc(this.pid);
    if (p) {
      this.state.proc = p;
      this.state.rssPeakBytes = Math.max(this.state.rssPeakBytes, p.rssBytes, p.hwmBytes);
    }
    this.state.walBytesMax = Math.max(this.state.walBytesMax, size(this.dbFile + '-wal'));
    this.state.dbBytesMax = Math.max(this.state.dbBytesMax, size(this.dbFile));
    return p;
  }

  async scrape(): Promise<Map<string, number> | undefined> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.apiPort}/metrics`);
      const m = parseMetrics(await r.text());
      this.state.scrapes++;
      this.state.last = m;
      const p99 = m.get('keytally_writer_commit_duration_seconds{quantile="0.99"}');
      if (p99 !== undefined) this.state.commitP99MaxMs = Math.max(this.state.commitP99MaxMs, p99 * 1000);
      const lag = m.get('keytally_writer_lag_seconds');
      if (lag !== undefined) this.state.lagMaxMs = Math.max(this.state.lagMaxMs, lag * 1000);
      return m;
    } catch {
      this.state.scrapeErrors++;
      return undefined;
    }
  }

  dbBytes(): number {
    return size(this.dbFile);
  }
}
