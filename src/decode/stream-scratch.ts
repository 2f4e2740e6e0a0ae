/**
 * The one-pass paths' scratch (streamLogs and streamTraces in otlp-proto.ts): what a request's records or spans hold
 * for the fold, written while the request is decoded and checked, read back once the whole request has passed.
 * Validating in the same walk that decodes is what this buys (a separate validation walk was 12 % of a worker's CPU
 * per log record, 13 % per span); folding only after the last byte checked is what keeps a request malformed
 * half-way from leaving anything behind.
 *
 * Typed arrays and string slots, reused by every request of the thread and grown by doubling: no object per record,
 * span or attribute. A request that would need more than its own size (or SCRATCH_FLOOR) of scratch — tiny records
 * or attributes, where the scratch would outweigh the bytes — is not held: `fits` says so and the caller validates
 * first and streams as before; so does a request over SCRATCH_CAP bytes, without trying. So a thread's scratch stays
 * within SCRATCH_CAP (twice that in capacity, grown by doubling), however large the requests.
 */
import type { Attr, LogBody } from '../model/otlp.js';

/** Bytes of scratch one record, span, event and attribute take (typed slots plus string references). */
const RECORD_COST = 5 * 4 + 2 * 8;
const SPAN_COST = 5 * 4 + 8;
const EVENT_COST = 4 + 8;
const ATTR_COST = 3 * 4 + 1 + 2 * 8;
/** Any request may use this much scratch, whatever its size. */
export const SCRATCH_FLOOR = 1 << 20;
/**
 * Requests larger than this (bytes after inflating) validate first and are not held: the scratch would be kept for
 * the thread's life at the largest request's size (a 64 MiB request of logs wants about 40 MiB), and it is the small
 * and medium requests, the SDKs' and Collectors' batches, whose per-record cost the separate walk weighed on.
 */
export const SCRATCH_CAP = 2 << 20;
const budgetFor = (size: number) => Math.min(SCRATCH_CAP, Math.max(SCRATCH_FLOOR, size));

function grow<T extends Int32Array | Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** Attributes, one after another: size, whether the value was hashed from the bytes (then hashHi/hashLo), key, value. */
export class AttrScratch {
  bytes = new Int32Array(4096);
  hashed = new Uint8Array(4096);
  hashHi = new Uint32Array(4096);
  hashLo = new Uint32Array(4096);
  key: string[] = [];
  value: string[] = [];
  n = 0;

  /** Appends one attribute. */
  add(bytes: number, key: string, value: string, hashed: boolean, hi: number, lo: number): void {
    const i = this.n++;
    if (i === this.bytes.length) {
      this.bytes = grow(this.bytes, new Int32Array(i * 2));
      this.hashed = grow(this.hashed, new Uint8Array(i * 2));
      this.hashHi = grow(this.hashHi, new Uint32Array(i * 2));
      this.hashLo = grow(this.hashLo, new Uint32Array(i * 2));
    }
    this.bytes[i] = bytes;
    if (hashed) {
      this.hashed[i] = 1;
      this.hashHi[i] = hi;
      this.hashLo[i] = lo;
    } else this.hashed[i] = 0;
    if (i === this.key.length) {
      this.key.push(key);
      this.value.push(value);
    } else {
      this.key[i] = key;
      this.value[i] = value;
    }
  }

  /** Attributes [from, to) into `out` (pooled objects, out.length === to - from). */
  copy(from: number, to: number, out: Attr[]): void {
    for (let a = from, k = 0; a < to; a++, k++) {
      const at = out[k]!;
      at.key = this.key[a]!;
      at.value = this.value[a]!;
      at.bytes = this.bytes[a]!;
      if (this.hashed[a] === 1) {
        at.hashHi = this.hashHi[a]!;
        at.hashLo = this.hashLo[a]!;
      } else {
        at.hashHi = undefined;
        at.hashLo = undefined;
      }
    }
  }

  clear(): void {
    this.key.fill('', 0, this.n);
    this.value.fill('', 0, this.n);
    this.n = 0;
  }
}

/**
 * Attribute objects handed to a sink, one per position in a record or span; lists of them by length for up to
 * POOLED_LISTS attributes (longer lists are made per call). Two pools where a span and its events are live together.
 */
export class AttrPool {
  private readonly pool: Attr[] = [];
  private readonly lists: Attr[][] = [];

  list(n: number): Attr[] {
    const pool = this.pool;
    while (pool.length < n) pool.push({ key: '', value: '', bytes: 0, hashHi: undefined, hashLo: undefined });
    if (n >= POOLED_LISTS) return pool.slice(0, n);
    let list = this.lists[n];
    if (list === undefined) {
      while (this.lists.length <= n) this.lists.push(undefined as never);
      list = this.lists[n] = pool.slice(0, n);
    }
    return list;
  }
}
const POOLED_LISTS = 64;

/** Per ResourceLogs / ResourceSpans: its attributes (the last resource field wins) and the end of its items. */
export class Resources {
  attrs: Array<Attr[] | undefined> = [];
  itemEnd: number[] = [];
  n = 0;

  begin(): number {
    const i = this.n++;
    if (i === this.attrs.length) {
      this.attrs.push(undefined);
      this.itemEnd.push(0);
    } else this.attrs[i] = undefined;
    return i;
  }

  clear(): void {
    this.attrs.fill(undefined, 0, this.n);
    this.n = 0;
  }
}

export class LogsScratch {
  /** Per record: its size, severity_number, body bytes [from, to) (-1: none), end of its attributes. */
  recBytes = new Int32Array(1024);
  recSeverity = new Int32Array(1024);
  recBodyFrom = new Int32Array(1024);
  recBodyTo = new Int32Array(1024);
  recAttrEnd = new Int32Array(1024);
  recSeverityText: string[] = [];
  /** A body that is not handed over as bytes (kvlist, other kinds, or every body for a sink without rawBodies). */
  recBody: LogBody[] = [];
  records = 0;
  readonly attrs = new AttrScratch();
  readonly resources = new Resources();
  private budget = 0;

  /** Starts a request of `size` bytes. */
  reset(size: number): void {
    this.clear();
    this.budget = budgetFor(size);
  }

  /** Whether the records and attributes held so far are within the request's budget. */
  fits(): boolean {
    return this.records * RECORD_COST + this.attrs.n * ATTR_COST <= this.budget;
  }

  /** Appends one record (its attributes already appended). */
  record(bytes: number, severity: number, severityText: string, body: LogBody, bodyFrom: number, bodyTo: number): void {
    const i = this.records++;
    if (i === this.recBytes.length) {
      this.recBytes = grow(this.recBytes, new Int32Array(i * 2));
      this.recSeverity = grow(this.recSeverity, new Int32Array(i * 2));
      this.recBodyFrom = grow(this.recBodyFrom, new Int32Array(i * 2));
      this.recBodyTo = grow(this.recBodyTo, new Int32Array(i * 2));
      this.recAttrEnd = grow(this.recAttrEnd, new Int32Array(i * 2));
    }
    this.recBytes[i] = bytes;
    this.recSeverity[i] = severity;
    this.recBodyFrom[i] = bodyFrom;
    this.recBodyTo[i] = bodyTo;
    this.recAttrEnd[i] = this.attrs.n;
    if (i === this.recSeverityText.length) {
      this.recSeverityText.push(severityText);
      this.recBody.push(body);
    } else {
      this.recSeverityText[i] = severityText;
      this.recBody[i] = body;
    }
  }

  /** Drops the references of the request just folded (strings, bodies, resources), so they do not outlive it. */
  clear(): void {
    this.recSeverityText.fill('', 0, this.records);
    this.recBody.fill(undefined, 0, this.records);
    this.records = 0;
    this.attrs.clear();
    this.resources.clear();
  }
}

export class SpansScratch {
  /** Per span: its size, kind, status code, end of its attributes and of its events; its name. */
  spanBytes = new Int32Array(1024);
  spanKind = new Int32Array(1024);
  spanStatus = new Int32Array(1024);
  spanAttrEnd = new Int32Array(1024);
  spanEventEnd = new Int32Array(1024);
  spanName: string[] = [];
  spans = 0;
  /** Per event: the end of its attributes (in eventAttrs), its name. */
  eventAttrEnd = new Int32Array(256);
  eventName: string[] = [];
  events = 0;
  readonly attrs = new AttrScratch();
  readonly eventAttrs = new AttrScratch();
  readonly resources = new Resources();
  private budget = 0;

  reset(size: number): void {
    this.clear();
    this.budget = budgetFor(size);
  }

  fits(): boolean {
    return this.spans * SPAN_COST + this.events * EVENT_COST + (this.attrs.n + this.eventAttrs.n) * ATTR_COST <= this.budget;
  }

  /** Appends one event (its attributes already appended). */
  event(name: string): void {
    const i = this.events++;
    if (i === this.eventAttrEnd.length) this.eventAttrEnd = grow(this.eventAttrEnd, new Int32Array(i * 2));
    this.eventAttrEnd[i] = this.eventAttrs.n;
    if (i === this.eventName.length) this.eventName.push(name);
    else this.eventName[i] = name;
  }

  /** Appends one span (its attributes and events already appended). */
  span(bytes: number, name: string, kind: number, status: number): void {
    const i = this.spans++;
    if (i === this.spanBytes.length) {
      this.spanBytes = grow(this.spanBytes, new Int32Array(i * 2));
      this.spanKind = grow(this.spanKind, new Int32Array(i * 2));
      this.spanStatus = grow(this.spanStatus, new Int32Array(i * 2));
      this.spanAttrEnd = grow(this.spanAttrEnd, new Int32Array(i * 2));
      this.spanEventEnd = grow(this.spanEventEnd, new Int32Array(i * 2));
    }
    this.spanBytes[i] = bytes;
    this.spanKind[i] = kind;
    this.spanStatus[i] = status;
    this.spanAttrEnd[i] = this.attrs.n;
    this.spanEventEnd[i] = this.events;
    if (i === this.spanName.length) this.spanName.push(name);
    else this.spanName[i] = name;
  }

  clear(): void {
    this.spanName.fill('', 0, this.spans);
    this.eventName.fill('', 0, this.events);
    this.spans = 0;
    this.events = 0;
    this.attrs.clear();
    this.eventAttrs.clear();
    this.resources.clear();
  }
}
