/**
 * The writer's template log (src/writer/template-log.ts): replayed in order on
 * rows keyed by text — as the PostgreSQL store does — it rebuilds exactly the
 * canonical miner's templates and counts; and why a fleet's per-template counts
 * cannot be exact in general: one miner's own counts depend on line order.
 */
import { describe, expect, it } from 'vitest';
import { TemplateMiner } from '../../src/mine/miner.js';
import { emptyCounters, type TemplateDelta } from '../../src/model/delta.js';
import { WriterState } from '../../src/writer/state.js';
import type { TemplateOp } from '../../src/writer/template-log.js';
import { generateLogs, rng } from '../helpers/log-generator.js';

const OPTS = { precision: 14, minerMaxClusters: 1000, minerMaxLineLength: 4096, sketchCacheRows: 10_000, history: 'off' as const };

/** The PostgreSQL replay (src/store/postgres/templates.ts) on a Map: text -> [count, bytes]. */
function replay(rows: Map<string, [number, number]>, ops: TemplateOp[]): void {
  for (const op of ops) {
    if (op.op === 'add') {
      const r = rows.get(op.template) ?? [0, 0];
      rows.set(op.template, [r[0] + op.count, r[1] + op.bytes]);
      continue;
    }
    const from = rows.get(op.from);
    if (!from) continue;
    const c = op.count === null ? from[0] : Math.min(op.count, from[0]);
    const b = op.bytes === null ? from[1] : Math.min(op.bytes, from[1]);
    if (from[0] - c <= 0 && from[1] - b <= 0) rows.delete(op.from);
    else rows.set(op.from, [from[0] - c, from[1] - b]);
    const to = rows.get(op.to) ?? [0, 0];
    rows.set(op.to, [to[0] + c, to[1] + b]);
  }
}

function batch(templates: TemplateDelta[], seq: number) {
  return { worker: 0, seq, minute: 60_000, acks: [], services: [], metrics: [], labels: [], spans: [], logs: [], keys: [], templates, versions: [], counters: emptyCounters() };
}

describe('template log', () => {
  it('replayed on rows keyed by text, it gives the canonical miner\'s templates and counts exactly (merges, splits, generalisations)', () => {
    const state = new WriterState(OPTS);
    state.shareTemplates();
    const rows = new Map<string, [number, number]>();
    const { lines } = generateLogs({ seed: 11, lines: 6000, poolSize: 6 });
    const r = rng(5);
    const kinds = new Set<string>();
    let i = 0;
    let sent = 0;
    while (i < lines.length) {
      // Batches of random size, as workers flush them; some lines twice in one delta (count 2).
      const templates: TemplateDelta[] = [];
      for (let k = 0, m = 1 + Math.floor(r() * 60); k < m && i < lines.length; k++, i++) {
        const count = r() < 0.1 ? 2 : 1;
        sent += count;
        templates.push({ service: 's', severity: 'INFO', template: lines[i]!, count, bytes: count * 100, example: lines[i]!, firstSeen: i, lastSeen: i });
      }
      state.applyBatch(batch(templates, i));
      const ops = state.takeChanges().templateOps;
      for (const op of ops) kinds.add(op.op === 'add' ? 'add' : op.count === null ? 'whole' : 'split');
      replay(rows, ops);
    }
    expect([...kinds].sort()).toEqual(['add', 'split', 'whole']);
    const miner = state.miner('s', 'INFO');
    const want = new Map<string, [number, number]>();
    for (const c of miner.clusters()) {
      const w = want.get(c.template()) ?? [0, 0];
      want.set(c.template(), [w[0] + c.count, w[1] + c.bytes]);
    }
    expect(Object.fromEntries([...rows].sort())).toEqual(Object.fromEntries([...want].sort()));
    expect([...rows.values()].reduce((s, [c]) => s + c, 0)).toBe(sent);
  });

  it('a learnt template takes in the literal clusters it covers, and the stored literal rows move to it', () => {
    const state = new WriterState(OPTS);
    state.shareTemplates();
    const t = (template: string) => ({ service: 's', severity: 'INFO', template, count: 1, bytes: 10, example: template, firstSeen: 1, lastSeen: 1 });
    state.applyBatch(batch([t('Starting service alpha'), t('Starting service beta')], 1));
    const rows = new Map<string, [number, number]>();
    replay(rows, state.takeChanges().templateOps);
    expect([...rows.keys()].sort()).toEqual(['Starting service alpha', 'Starting service beta']);
    // Another instance stored the general template.
    expect(state.learnTemplate('s', 'INFO', 'Starting service <*>', 2)).toBe(true);
    rows.set('Starting service <*>', [5, 50]);
    replay(rows, state.takeChanges().templateOps);
    expect(Object.fromEntries(rows)).toEqual({ 'Starting service <*>': [7, 70] });
    // Lines of the literal go to the general template from now on.
    state.applyBatch(batch([t('Starting service alpha')], 3));
    replay(rows, state.takeChanges().templateOps);
    expect(Object.fromEntries(rows)).toEqual({ 'Starting service <*>': [8, 80] });
    // Learning a template it already has changes nothing.
    expect(state.learnTemplate('s', 'INFO', 'Starting service <*>', 4)).toBe(false);
  });

  it('is order-dependent: one miner given the same lines in another order ends with other templates (the limit of a fleet\'s exactness)', () => {
    // A single instance's per-template counts are not a function of its lines alone, so no fleet can match
    // "the" single instance per template for every workload: only the totals are order-free.
    const lines = ['delta', 'delta', 'omega', 'alpha', 'gamma', 'delta', 'alpha', 'gamma', 'gamma', 'beta', 'alpha'].map((w) => `Starting service ${w}`);
    const mine = (ls: string[]) => {
      const m = new TemplateMiner();
      for (const l of ls) m.add(l);
      return Object.fromEntries(m.clusters().map((c) => [c.template(), c.count]).sort());
    };
    expect(mine(lines)).toEqual({ 'Starting service <*>': 11 });
    expect(mine([...lines].sort())).toEqual({
      'Starting service alpha': 3, 'Starting service beta': 1, 'Starting service delta': 3, 'Starting service gamma': 3, 'Starting service omega': 1,
    });
  });
});
