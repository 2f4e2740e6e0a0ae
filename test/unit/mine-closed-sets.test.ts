/**
 * Issue 11, the failure kinds on logs the miner has never seen, each on generated logs
 * with known templates: closed sets of constant words, key=value lists that differ in
 * one key or flag, optional groups, and a fold that splits again once its words prove
 * to be a small closed set (counts stay exact).
 */
import { describe, expect, it } from 'vitest';
import { TemplateMiner } from '../../src/mine/miner.js';
import { groupingAccuracy } from '../../src/mine/accuracy.js';
import { generateLogs, rng } from '../helpers/log-generator.js';

function mine(lines: string[], miner = new TemplateMiner()): { miner: TemplateMiner; ids: number[] } {
  const raw = lines.map((l) => {
    miner.add(l);
    return miner.lastAssignment;
  });
  return { miner, ids: raw.map((a) => miner.finalId(a)) };
}

function counts(miner: TemplateMiner): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of miner.clusters()) m.set(c.template(), (m.get(c.template()) ?? 0) + c.count);
  return m;
}

/** True count of each template in generated logs. */
function truthCounts(g: { truth: number[]; templates: string[] }): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of g.truth) m.set(g.templates[t]!, (m.get(g.templates[t]!) ?? 0) + 1);
  return m;
}

describe('a constant word from a small closed set tells templates apart', () => {
  const templates = [
    '{ip} "GET /v2/{hex}/servers/detail HTTP/{num}" status: {num} len: {num} time: {num}',
    '{ip} "POST /v2/{hex}/servers/detail HTTP/{num}" status: {num} len: {num} time: {num}',
    '{ip} "DELETE /v2/{hex}/servers/detail HTTP/{num}" status: {num} len: {num} time: {num}',
    '[instance: {uuid}] VM Started (Lifecycle Event)',
    '[instance: {uuid}] VM Paused (Lifecycle Event)',
    '[instance: {uuid}] VM Resumed (Lifecycle Event)',
    '[instance: {uuid}] VM Stopped (Lifecycle Event)',
    'worker {num} spawned for job {hex}',
    'worker {num} destroyed for job {hex}',
    'Failed password for invalid user {user} from {ip} port {num} ssh2',
    'Failed none for invalid user {user} from {ip} port {num} ssh2',
  ];
  for (const seed of [1, 2, 3]) {
    it(`keeps methods, states and verbs apart, and user names a variable (seed ${seed})`, () => {
      const g = generateLogs({ seed, lines: 6000, templates });
      const { miner, ids } = mine(g.lines);
      expect(groupingAccuracy(ids, g.truth)).toBe(1);
      expect(counts(miner)).toEqual(truthCounts(g));
    });
  }

  it('a stray line whose constant word differs (seen once) does not widen a template of hundreds', () => {
    const g = generateLogs({ seed: 4, lines: 3000, templates: templates.slice(3, 5) });
    const lines = [...g.lines.slice(0, 1500), '[instance: 2b0e7c7a-8f8e-4a53-9d0b-2f3c5a1e9d11] VM Crashed (Lifecycle Event)', ...g.lines.slice(1500)];
    const { miner } = mine(lines);
    const c = counts(miner);
    expect(c.get('[instance: <UUID>] VM Crashed (Lifecycle Event)')).toBe(1);
    expect(c.get('[instance: <UUID>] VM Started (Lifecycle Event)')).toBe(truthCounts(g).get('[instance: <UUID>] VM Started (Lifecycle Event)'));
    expect([...c.keys()].some((t) => t.includes('<*>'))).toBe(false);
  });
});

describe('key=value lists that differ in one key or flag', () => {
  it('are different templates; values of one key are a variable', () => {
    const templates = [
      'audit: op=open path={path} uid={num} res=success',
      'audit: op=open path={path} gid={num} res=success',
      'audit: op=open path={path} uid={num} res=failed',
      'audit: op=close path={path} uid={num} res=success',
      'conn state=up peer={host} rtt={num}ms',
    ];
    const g = generateLogs({ seed: 5, lines: 5000, templates });
    const { miner, ids } = mine(g.lines);
    expect(groupingAccuracy(ids, g.truth)).toBe(1);
    expect(counts(miner)).toEqual(truthCounts(g));
  });
});

describe('optional groups', () => {
  it('a byte count with its unit in parentheses only when large stays one template', () => {
    const r = rng(6);
    const bytes = (): string => {
      const n = Math.floor(r() ** 3 * 5_000_000);
      return n < 1024 ? `${n} bytes` : `${n} bytes (${(n / 1024).toFixed(2)} KB)`;
    };
    const apps = ['chrome.exe', 'firefox.exe', 'outlook.exe', 'svchost.exe'];
    const hosts = ['www.example.com:443', 'mail.example.org:993', 'cdn.example.net:80'];
    const lines: string[] = [];
    const truth: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const app = apps[Math.floor(r() * apps.length)]!;
      const host = hosts[Math.floor(r() * hosts.length)]!;
      if (r() < 0.7) {
        const life = r() < 0.3 ? '<1 sec' : `00:0${Math.floor(r() * 9)}`;
        lines.push(`${app} - ${host} close, ${bytes()} sent, ${bytes()} received, lifetime ${life}`);
        truth.push(0);
      } else {
        lines.push(`${app} - ${host} open through proxy proxy.example.com:5070 HTTPS`);
        truth.push(1);
      }
    }
    const { miner, ids } = mine(lines);
    expect(groupingAccuracy(ids, truth)).toBe(1);
    expect(miner.clusters()).toHaveLength(2);
    expect(miner.clusters().reduce((a, c) => a + c.count, 0)).toBe(4000);
  });
});

describe('a fold that proves to be a closed set splits again', () => {
  // Five states, each seen once before the fifth arrives: they look like a variable
  // (five rare words) and fold. Then each recurs, and the fold splits back.
  const states = ['Started', 'Paused', 'Resumed', 'Stopped', 'Migrated'];
  const r = rng(7);
  const lines: string[] = [];
  const truth: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const s = i < 5 ? i : Math.floor(r() * 5);
    lines.push(`instance ${Math.floor(r() * 1e6)} lifecycle ${states[s]} by scheduler`);
    truth.push(s);
  }

  it('ends with one template per state, counts exact, every line where it belongs', () => {
    const { miner, ids } = mine(lines);
    expect(groupingAccuracy(ids, truth)).toBe(1);
    const want = new Map(states.map((s, k) => [`instance <NUM> lifecycle ${s} by scheduler`, truth.filter((t) => t === k).length]));
    expect(counts(miner)).toEqual(want);
  });

  it('folded first (the split is not a fold that never happened)', () => {
    const m = new TemplateMiner();
    for (const l of lines.slice(0, 5)) m.add(l);
    expect(m.clusters().map((c) => c.template())).toEqual(['instance <NUM> lifecycle <*> by scheduler']);
  });

  it('drains per word while folded, so the counts a writer gets add up to the lines', () => {
    const m = new TemplateMiner();
    const drained = new Map<string, number>();
    lines.forEach((l, i) => {
      m.add(l);
      if (i % 3 === 0) for (const d of m.drain()) drained.set(d.template, (drained.get(d.template) ?? 0) + d.count);
    });
    for (const d of m.drain()) drained.set(d.template, (drained.get(d.template) ?? 0) + d.count);
    expect([...drained.keys()].some((t) => t.includes('<*>'))).toBe(false);
    expect([...drained.values()].reduce((a, b) => a + b, 0)).toBe(2000);
    expect(drained).toEqual(counts(m));
  });

  it('reports the moves of its merges and splits when asked (recordMoves)', () => {
    const m = new TemplateMiner({ recordMoves: true });
    for (const l of lines) m.add(l);
    const moves = m.takeMoves();
    expect(moves.filter((x) => x.merged)).toHaveLength(4); // the four siblings folded into the first
    const splits = moves.filter((x) => !x.merged);
    expect(splits).toHaveLength(4); // and split off again, each with its exact count
    const survivor = moves[0]!.to;
    for (const s of splits) {
      expect(s.from).toBe(survivor);
      // Split once (nearly) every word recurred: the part's lines so far, then it only grows.
      expect(s.count).toBeGreaterThanOrEqual(1);
      expect(s.count).toBeLessThanOrEqual(s.to.count);
    }
    expect(m.takeMoves()).toEqual([]);
    expect(new TemplateMiner().takeMoves()).toEqual([]);
  });
});

describe('masks of issue 15', () => {
  it('an empty or blank line has a visible template', () => {
    const m = new TemplateMiner();
    m.add('');
    m.add('   ');
    m.addTemplate('<empty>', 3);
    expect(m.clusters().map((c) => [c.template(), c.count])).toEqual([['<empty>', 5]]);
  });

  it('user names folded as a variable still take new names', () => {
    const g = generateLogs({ seed: 8, lines: 2000, templates: ['session opened for user {user} by (uid={num})'] });
    const { miner } = mine(g.lines);
    expect([...counts(miner)]).toEqual([['session opened for user <*> by (uid=<NUM>)', 2000]]);
  });
});
