/**
 * The one-pass logs path's scratch (streamLogs in otlp-proto.ts): what a request's records hold for the fold, written
 * while the request is decoded and checked, read back once the whole request has passed. Validating in the same walk
 * that decodes is what this buys (a separate validation walk was 12 % of a worker's CPU per log record); folding only
 * after the last byte checked is what keeps a request malformed half-way from leaving anything behind.
 *
 * Typed arrays and string slots, reused by every request of the thread and grown by doubling: no object per record
 * or attribute. A request that would need more than its own size (or SCRATCH_FLOOR) of scratch — tiny records or
 * attributes, where the scratch would outweigh the bytes — is not held: `fits` says so and the caller validates
 * first and streams as before, so the scratch stays within max(SCRATCH_FLOOR, the largest request's size).
 */
import type { Attr, LogBody } from '../model/otlp.js';

/** Bytes of scratch one record and one attribute take (typed slots plus two string references each). */
const RECORD_COST = 5 * 4 + 2 * 8;
const ATTR_COST = 3 * 4 + 1 + 2 * 8;
/** Any request may use this much scratch, whatever its size. */
export const SCRATCH_FLOOR = 1 << 20;

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
  /** Per attribute: its size, whether its value was hashed from the bytes (then hashHi/hashLo), key and value. */
  attrBytes = new Int32Array(4096);
  attrHashed = new Uint8Array(4096);
  attrHashHi = new Uint32Array(4096);
  attrHashLo = new Uint32Array(4096);
  attrKey: string[] = [];
  attrValue: string[] = [];
  attrs = 0;
  /** Per ResourceLogs: its attributes (the last resource field wins) and the end of its records. */
  resAttrs: Array<Attr[] | undefined> = [];
  resRecEnd: number[] = [];
  resources = 0;
  private budget = 0;

  /** Starts a request of `size` bytes. */
  reset(size: number): void {
    this.records = 0;
    this.attrs = 0;
    this.resources = 0;
    this.budget = Math.max(SCRATCH_FLOOR, size);
  }

  /** Whether the records and attributes held so far are within the request's budget. */
  fits(): boolean {
    return this.records * RECORD_COST + this.attrs * ATTR_COST <= this.budget;
  }

  beginResource(): number {
    const i = this.resources++;
    if (i === this.resAttrs.length) {
      this.resAttrs.push(undefined);
      this.resRecEnd.push(0);
    } else this.resAttrs[i] = undefined;
    return i;
  }

  endResource(i: number): void {
    this.resRecEnd[i] = this.records;
  }

  /** Room for one more attribute; returns its index. */
  attr(): number {
    const i = this.attrs++;
    if (i === this.attrBytes.length) {
      this.attrBytes = grow(this.attrBytes, new Int32Array(i * 2));
      this.attrHashed = grow(this.attrHashed, new Uint8Array(i * 2));
      this.attrHashHi = grow(this.attrHashHi, new Uint32Array(i * 2));
      this.attrHashLo = grow(this.attrHashLo, new Uint32Array(i * 2));
    }
    return i;
  }

  setAttrStrings(i: number, key: string, value: string): void {
    if (i === this.attrKey.length) {
      this.attrKey.push(key);
      this.attrValue.push(value);
    } else {
      this.attrKey[i] = key;
      this.attrValue[i] = value;
    }
  }

  /** Room for one more record; returns its index. */
  record(): number {
    const i = this.records++;
    if (i === this.recBytes.length) {
      this.recBytes = grow(this.recBytes, new Int32Array(i * 2));
      this.recSeverity = grow(this.recSeverity, new Int32Array(i * 2));
      this.recBodyFrom = grow(this.recBodyFrom, new Int32Array(i * 2));
      this.recBodyTo = grow(this.recBodyTo, new Int32Array(i * 2));
      this.recAttrEnd = grow(this.recAttrEnd, new Int32Array(i * 2));
    }
    return i;
  }

  setRecordRefs(i: number, severityText: string, body: LogBody): void {
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
    this.attrKey.fill('', 0, this.attrs);
    this.attrValue.fill('', 0, this.attrs);
    this.recSeverityText.fill('', 0, this.records);
    this.recBody.fill(undefined, 0, this.records);
    this.resAttrs.fill(undefined, 0, this.resources);
  }
}

function grow<T extends Int32Array | Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
