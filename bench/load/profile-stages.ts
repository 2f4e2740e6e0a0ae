/**
 * The server's CPU per record by stage, from the `--cpu-prof` profiles of all
 * its threads (`npm run bench -- --cpu-prof DIR`): where `npm run bench:stages`
 * covers a worker's stages in process, this covers the whole server under the
 * load, main thread and writer included.
 *
 * Each sample is charged to the first stage recognised walking up from its
 * leaf frame (so a hash called by the extractor counts as hash, a sketch
 * merged by the writer as merge, native frames take their caller's stage);
 * idle samples are left out. The rules go by module path, not by function
 * name, so they survive inlining as long as the module is right.
 *
 * A profile's time is the thread's samples, and on a machine with more
 * runnable threads than cores a thread that is preempted is sampled where it
 * stopped: a wake-up of another thread (postMessage, under "dispatch" and
 * "flush") then absorbs the time it waited for a core. Read those rows as
 * upper bounds there; the others are CPU.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const STAGES = [
  'receive', 'admission', 'dispatch', 'decompress', 'decode+fold', 'mine', 'hash', 'flush', 'merge', 'commit', 'api', 'gc', 'other',
] as const;
export type Stage = (typeof STAGES)[number];

interface Frame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: Frame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The stage of one frame, or undefined to look at its caller. Leaf-most match wins. */
function stageOf(f: Frame): Stage | undefined {
  const u = f.url;
  const fn = f.functionName;
  if (fn === '(garbage collector)') return 'gc';
  if (u.includes('/mine/')) return 'mine';
  if (u.includes('/sketch/') || u.includes('xxhash') || u.startsWith('wasm')) return 'hash';
  if (u.includes('/decode/decompress') || u === 'node:zlib') return 'decompress';
  if (u.includes('msgpackr')) return 'flush';
  if (u.includes('/decode/') || u.includes('/extract/')) return 'decode+fold';
  if (u.includes('/workers/ingest')) return fn === 'flush' ? 'flush' : 'decode+fold';
  if (u.includes('/writer/state')) return 'merge';
  if (u.includes('/store/') || u.includes('better-sqlite3')) return 'commit';
  if (u.includes('/workers/writer')) return fn === 'onDelta' ? 'merge' : 'commit';
  if (u.includes('/server/memory-limiter')) return 'admission';
  if (u.includes('/server/pipeline')) return fn === 'admit' || fn === 'hold' ? 'admission' : 'dispatch';
  if (u.includes('piscina')) return 'dispatch';
  if (u.includes('/server/otlp-http') || u.includes('/server/uws') || u.includes('/server/otlp-response') || u.includes('/server/ingest-metrics')) return 'receive';
  if (u.includes('/api/') || u.includes('/server/api-http') || u.includes('/workers/reader')) return 'api';
  return undefined;
}

export interface ThreadStages {
  file: string;
  /** The stage that took most of this thread's CPU, as its name (main, ingest, writer, reader). */
  role: string;
  busyMs: number;
  ms: Record<Stage, number>;
}

/** A thread's role from what it ran: only the writer merges, only workers decode, only the main thread receives. */
function roleOf(ms: Record<Stage, number>): string {
  if (ms.merge > 0) return 'writer';
  if (ms['decode+fold'] > 0) return 'ingest';
  if (ms.receive > 0) return 'main';
  return 'reader';
}

/** CPU by stage of each thread's profile in `dir`. */
export function profileStages(dir: string): ThreadStages[] {
  const out: ThreadStages[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map<number, ProfileNode>();
    const parent = new Map<number, number>();
    for (const n of p.nodes) {
      byId.set(n.id, n);
      for (const c of n.children ?? []) parent.set(c, n.id);
    }
    const memo = new Map<number, Stage | null>();
    const stageOfNode = (id: number): Stage | null => {
      const seen = memo.get(id);
      if (seen !== undefined) return seen;
      const n = byId.get(id)!;
      const name = n.callFrame.functionName;
      let s: Stage | null;
      if (name === '(idle)') s = null;
      else {
        s = stageOf(n.callFrame) ?? null;
        if (s === null) {
          const up = parent.get(id);
          s = up === undefined ? 'other' : stageOfNode(up);
          if (s === null) s = 'other';
        }
      }
      memo.set(id, s);
      return s;
    };
    const ms = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
    let busy = 0;
    for (let i = 0; i < p.samples.length; i++) {
      const id = p.samples[i]!;
      const n = byId.get(id)!;
      if (n.callFrame.functionName === '(idle)') continue;
      const s = stageOfNode(id) ?? 'other';
      const dt = (p.timeDeltas[i] ?? 0) / 1000;
      ms[s] += dt;
      busy += dt;
    }
    out.push({ file, role: roleOf(ms), busyMs: busy, ms });
  }
  return out;
}

/** A table of ns of CPU per record by stage (rows) and thread role (columns), for `records` records. */
export function stageTable(threads: ThreadStages[], records: number): string {
  const roles = ['main', 'ingest', 'writer', 'reader'].filter((r) => threads.some((t) => t.role === r));
  const per = (ms: number) => ((ms * 1e6) / Math.max(1, records)).toFixed(0).padStart(8);
  const lines = [`server CPU by stage, ns per record (${records.toLocaleString('en-US')} records; ${threads.length} thread profiles)`];
  lines.push('  ' + 'stage'.padEnd(12) + roles.map((r) => r.padStart(8)).join('') + '   total');
  const sum = (role: string | undefined, s: Stage) => threads.filter((t) => role === undefined || t.role === role).reduce((a, t) => a + t.ms[s], 0);
  for (const s of STAGES) {
    const total = sum(undefined, s);
    if (total === 0) continue;
    lines.push('  ' + s.padEnd(12) + roles.map((r) => per(sum(r, s))).join('') + per(total));
  }
  const busy = (role?: string) => threads.filter((t) => role === undefined || t.role === role).reduce((a, t) => a + t.busyMs, 0);
  lines.push('  ' + 'all'.padEnd(12) + roles.map((r) => per(busy(r))).join('') + per(busy()));
  return lines.join('\n');
}
