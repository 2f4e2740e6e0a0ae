/**
 * Span names as the span inventory keeps them: masked by the template miner's scanner,
 * so `GET /api/orders/8812` and `GET /api/orders/9921` are one operation,
 * `GET /api/orders/<NUM>`, with one row and one count (a name per id is a cardinality
 * explosion of its own). The raw name is never kept: only its masked form leaves here.
 *
 * Masks only, no learned `<*>`: a span name is an operation's name, and two names that
 * differ in a word (`GET /users` / `GET /orders`) are two operations. Masking is
 * deterministic, so every worker and every restart names a span the same way.
 */
import { EMPTY_TEMPLATE } from '../mine/miner.js';
import { sharedScanner } from '../mine/scanner.js';

/** Distinct masked shapes remembered before the memo is reset (bounded memory). */
const MEMO = 4096;

export class SpanNames {
  /** Shape hash (30 bits, a Smi key) -> [check hash, masked name]. */
  private readonly memo = new Map<number, { check: number; name: string }>();

  constructor(private readonly maxLength: number) {}

  /** The name under which a span is counted. */
  of(raw: string): string {
    // The miners' scanner of this thread: scratch space, used only within this call.
    const sc = sharedScanner(this.maxLength, 0);
    sc.scan(raw, 0, Math.min(raw.length, this.maxLength));
    const key = sc.h1 & 0x3fffffff;
    const m = this.memo.get(key);
    if (m !== undefined && m.check === sc.h2) return m.name;
    const name = sc.n === 0 ? EMPTY_TEMPLATE : sc.masked();
    if (this.memo.size >= MEMO) this.memo.clear();
    this.memo.set(key, { check: sc.h2, name });
    return name;
  }
}
