/**
 * What happened to templates since the last commit, in order: lines added
 * under a template text, and moves of stored lines from one text to another
 * (a merge, a split, a template that generalised). A store whose rows other
 * writers share (PostgreSQL, a fleet) replays this log: each add adds fresh
 * lines, each move moves an amount read from the stored row in the same
 * statement. No step adds an amount the store did not hold or the instance
 * did not mine, so the stored counts of a (service, severity) always add up
 * to exactly the lines committed, whatever the other writers did meanwhile.
 *
 * Rows are named by their text (a fleet keys them by a hash of it): cluster
 * ids are local to one miner.
 */
import type { Cluster, Move } from '../mine/miner.js';

export interface TemplateAdd {
  op: 'add';
  service: string;
  severity: string;
  template: string;
  /** The writing miner's cluster id (a label only: ids are local). */
  id: number;
  count: number;
  bytes: number;
  example: string;
  firstSeen: number;
  lastSeen: number;
}

export interface TemplateMove {
  op: 'move';
  service: string;
  severity: string;
  from: string;
  to: string;
  toId: number;
  /** At most this many lines move (a split: the lines of one word); null: the whole stored row (a merge or a generalisation). */
  count: number | null;
  bytes: number | null;
  /**
   * The example a target row that does not exist yet starts with: a split's new template its own text, as the
   * local writer gives it (src/writer/state.ts); '' (a merge, a generalisation): the source row's example, whose
   * lines are the ones that move.
   */
  example: string;
}

export type TemplateOp = TemplateAdd | TemplateMove;

export interface Seen {
  firstSeen: number;
  lastSeen: number;
}

export class TemplateLog {
  private ops: TemplateOp[] = [];
  /**
   * Adds since the last move, by cluster: one op each (a move in between starts a new segment). Keyed by the
   * cluster, not its text: building a (service, severity, text) key per delta cost the writer a third more time
   * per template delta; two clusters of one text give two adds, which the replay sums.
   */
  private segment = new Map<Cluster, TemplateAdd>();
  /** The text each cluster's lines are stored under, as far as this log knows. */
  private readonly texts = new WeakMap<Cluster, string>();

  get size(): number {
    return this.ops.length;
  }

  take(): TemplateOp[] {
    const out = this.ops;
    this.ops = [];
    this.segment = new Map();
    return out;
  }

  /** c's lines are (or will be) stored under `text`: a different text recorded before moves its row there. */
  sync(service: string, severity: string, c: Cluster, text = c.template()): string {
    const old = this.texts.get(c);
    if (old === text) return text;
    if (old !== undefined) this.move(service, severity, old, text, c.id, null, null);
    this.texts.set(c, text);
    return text;
  }

  /** A stored row this miner placed in cluster c: its lines belong to c's template. */
  learned(service: string, severity: string, stored: string, c: Cluster): void {
    const text = this.sync(service, severity, c);
    this.move(service, severity, stored, text, c.id, null, null);
  }

  add(service: string, severity: string, c: Cluster, text: string, count: number, bytes: number, example: string, seen: Seen): void {
    if (count === 0 && bytes === 0) return;
    const a = this.segment.get(c);
    if (a && a.template === text) {
      a.count += count;
      a.bytes += bytes;
      a.firstSeen = Math.min(a.firstSeen, seen.firstSeen);
      a.lastSeen = Math.max(a.lastSeen, seen.lastSeen);
      if (a.example === '') a.example = example;
      return;
    }
    const op: TemplateAdd = { op: 'add', service, severity, template: text, id: c.id, count, bytes, example, firstSeen: seen.firstSeen, lastSeen: seen.lastSeen };
    this.segment.set(c, op);
    this.ops.push(op);
  }

  /**
   * One addTemplate() of the canonical miner: the merges it made (before the
   * line was counted), the line itself, then the splits (after it), as the
   * miner made them.
   */
  mined(service: string, severity: string, c: Cluster, moves: Move[], count: number, bytes: number, example: string, seen: Seen): void {
    const split = moves.find((m) => !m.merged && m.from === c);
    // Before a split the lines were counted under c's text of that moment (the split rewrites c's text).
    const at = split ? split.fromTemplate : c.template();
    for (const m of moves) {
      if (!m.merged) continue;
      const to = m.to === c ? at : m.to.template();
      this.sync(service, severity, m.to, to);
      // A merge into the line's own cluster: a new row there is the line's, as the local writer makes it.
      this.move(service, severity, this.texts.get(m.from) ?? m.fromTemplate, to, m.to.id, null, null, m.to === c ? example : '');
    }
    this.sync(service, severity, c, at);
    this.add(service, severity, c, at, count, bytes, example, seen);
    for (const m of moves) {
      if (m.merged) continue;
      const from = this.texts.get(m.from) ?? m.fromTemplate;
      const to = this.sync(service, severity, m.to);
      this.move(service, severity, from, to, m.to.id, m.count, m.bytes, to);
    }
    if (split) this.sync(service, severity, c);
  }

  private move(service: string, severity: string, from: string, to: string, toId: number, count: number | null, bytes: number | null, example = ''): void {
    if (from === to) return;
    this.ops.push({ op: 'move', service, severity, from, to, toId, count, bytes, example });
    this.segment = new Map();
  }
}
