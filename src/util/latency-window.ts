/** The last N latencies, for a cheap p99 in threads that report by message (the histogram proper lives on the main thread). */
export class LatencyWindow {
  private readonly values: Float64Array;
  private n = 0;

  constructor(size: number) {
    this.values = new Float64Array(size);
  }

  add(v: number): void {
    this.values[this.n++ % this.values.length] = v;
  }

  quantile(q: number): number {
    const len = Math.min(this.n, this.values.length);
    if (len === 0) return 0;
    const sorted = this.values.slice(0, len).sort();
    return sorted[Math.min(len - 1, Math.floor(q * len))]!;
  }
}
