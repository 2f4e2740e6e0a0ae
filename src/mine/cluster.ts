/** One template and its counters. Mutable inside the miner; callers see the Cluster interface. */

export interface Cluster {
  readonly id: number;
  template(): string;
  count: number;
}

/**
 * Lines of one value at a folded position (see Tracker): exact counts, and the clusters
 * folded in with that value, so a split can send their lines to the right template.
 */
export class Slot {
  n = 0;
  /** Lines since the last drain. */
  pending = 0;
  /** Record bytes of all time and since the last drain, as the cluster's. */
  bytes = 0;
  pendingBytes = 0;
  readonly absorbed: MinedCluster[] = [];
  constructor(
    readonly track: Tracker,
    readonly value: string,
    /** The cluster holding these lines now (the tracked cluster, or its part after a split). */
    public owner: MinedCluster,
  ) {}
}

/**
 * A position that was folded into `<*>` because its constant words looked like values
 * (siblings). Every line's word there is counted, so that the fold can be undone
 * exactly if the words turn out to be a small closed set that recurs (a split).
 */
export class Tracker {
  readonly slots = new Map<string, Slot>();
  constructor(
    readonly pos: number,
    /** The word the tracked cluster itself had there before the fold: it keeps that part on a split. */
    readonly own: string,
  ) {}
}

export class MinedCluster implements Cluster {
  count = 0;
  /** Counts since the last drain, with first/last seen and one example (raw, masked at drain). */
  pending = 0;
  /** Protobuf bytes of the records behind `pending` (the cost of this template since the last drain). */
  pendingBytes = 0;
  /** Protobuf bytes of all the lines in `count` (moved with them by merges and splits). */
  bytes = 0;
  firstSeen = 0;
  lastSeen = 0;
  example: string | null = null;
  touched = false;
  /** LRU clock value of the last use. */
  lastUsed = 0;
  alive = true;
  /** Set when this cluster was merged into another: its lines belong there now. */
  mergedInto: MinedCluster | null = null;
  /** The folded position whose words are counted; null when there is none (or it proved to be a variable). */
  track: Tracker | null = null;
  private text: string | null = null;

  constructor(
    readonly id: number,
    /** Masked tokens; `<*>` marks a learned variable. */
    public tokens: string[],
    /** Whitespace before each token (index 0 unused); null when all single spaces. */
    public seps: string[] | null,
    /** Key of the tree bucket holding this cluster. */
    readonly bucket: string,
  ) {}

  template(): string {
    if (this.text !== null) return this.text;
    const seps = this.seps;
    let out = '';
    for (let i = 0; i < this.tokens.length; i++) out += (i === 0 ? '' : seps === null ? ' ' : seps[i]!) + this.tokens[i]!;
    this.text = out;
    return out;
  }

  /** Forget the rendered text after the tokens changed. */
  changed(): void {
    this.text = null;
  }

  /** Record `n` lines of `bytes` at `timeMs`; the miner keeps the example. */
  hit(n: number, timeMs: number, bytes: number): void {
    this.count += n;
    this.pendingBytes += bytes;
    this.bytes += bytes;
    if (this.pending === 0) {
      this.firstSeen = timeMs;
      this.lastSeen = timeMs;
    } else {
      if (timeMs < this.firstSeen) this.firstSeen = timeMs;
      if (timeMs > this.lastSeen) this.lastSeen = timeMs;
    }
    this.pending += n;
  }
}

/** Follow merges to the cluster that holds a line now; null if that cluster was evicted. */
export function resolve(c: MinedCluster): MinedCluster | null {
  while (c.mergedInto !== null) c = c.mergedInto;
  return c.alive ? c : null;
}
