/** One template and its counters. Mutable inside the miner; callers see the Cluster interface. */

export interface Cluster {
  readonly id: number;
  template(): string;
  count: number;
}

export class MinedCluster implements Cluster {
  count = 0;
  /** Counts since the last drain, with first/last seen and one example (raw, masked at drain). */
  pending = 0;
  /** Protobuf bytes of the records behind `pending` (the cost of this template since the last drain). */
  pendingBytes = 0;
  firstSeen = 0;
  lastSeen = 0;
  example: string | null = null;
  touched = false;
  /** LRU clock value of the last use. */
  lastUsed = 0;
  alive = true;
  /** Set when this cluster was merged into another: its lines belong there now. */
  mergedInto: MinedCluster | null = null;
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
