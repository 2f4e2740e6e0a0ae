/**
 * Online template miner (Drain-style: a parse tree keyed by token count and first
 * token, then the most similar cluster of that leaf).
 *
 * Hot path: the scanner hashes the masked shape of the line; a shape already seen
 * maps straight to its cluster (following merges), with no string built. Joining
 * that cluster again cannot change its template (the template already covers the
 * shape), so a hit is only a counter update.
 *
 * Templates: masked tokens joined by the whitespace of the line that created the
 * cluster (leading/trailing whitespace dropped).
 */
import { alignOptional, MAX_EXTRA } from './align.js';
import { ByteShape } from './byte-shape.js';
import { MinedCluster, Slot, Tracker, resolve, type Cluster } from './cluster.js';
import { CLASS, C_LETTER, isCloseWrap, isOpenWrap } from './chars.js';
import { WILDCARD } from './masks.js';
import { F_DIGIT, F_MASK, sharedScanner, type LineScanner } from './scanner.js';
import { blocks, covers, generalize, generalizeToken, isConstWord, isUnit, similarity, tokenMatches } from './similarity.js';

export type { Cluster } from './cluster.js';

export interface MinerOptions {
  /** Clusters kept per miner; the least recently used is evicted beyond this. Default 1000. */
  maxClusters?: number;
  /** Characters of a line that are mined; the rest is ignored. Default 4096. */
  maxLineLength?: number;
  /** Minimum share of agreeing positions for a line to join a cluster. Default 0.75 (masks already absorb most variables). */
  similarity?: number;
  /** Clusters that differ at one position only before that position can become <*> (see foldSiblings). Default 5. */
  siblings?: number;
  /** Distinct shapes remembered for the fast path before the memo is reset. Default 8 × maxClusters. */
  shapeCache?: number;
  /** Lines a word needs at a folded position to count as recurring (closed sets, see foldSiblings). Default 3. */
  recur?: number;
  /** Keep the moves of merges and splits for takeMoves() (the writer's canonical miners). Default false. */
  recordMoves?: boolean;
}

/**
 * Lines of all time that changed template: by a merge (`from` is gone, all its lines are
 * `to`'s now) or by a split (`from` stays, `count` of its lines are `to`'s now). The
 * writer moves stored counts with them, so stored rows always add up to the lines seen.
 */
export interface Move {
  from: Cluster;
  to: Cluster;
  count: number;
  /** Record bytes of those lines (as far as the miner was told them). */
  bytes: number;
  merged: boolean;
  /**
   * `from`'s template when the move was made: a split rewrites `from`'s own text (to its own word)
   * in the same call, and a store that replays moves in order must take the lines from the text
   * they were stored under.
   */
  fromTemplate: string;
}

/** More distinct words than this at a folded position: a variable, whatever their counts. */
const MAX_CLOSED = 12;

export interface Drained {
  id: number;
  template: string;
  count: number;
  /** Protobuf bytes of those lines' records (0 when the caller gave none, as the offline miner does). */
  bytes: number;
  example: string;
  firstSeen: number;
  lastSeen: number;
}

/**
 * A plain word (letters, '_' or '-', with wrapping punctuation such as `[x]` or `x:`)
 * is trusted as a tree key. Dotted or slashed names (`com.apple.foo:`, paths) are
 * often the variable part at the start of a line, so they go to the shared leaf.
 */
function isPlainWord(t: string): boolean {
  let s = 0;
  let e = t.length;
  while (s < e && isOpenWrap(t.charCodeAt(s))) s++;
  while (e > s && isCloseWrap(t.charCodeAt(e - 1))) e--;
  if (s === e) return false;
  for (let i = s; i < e; i++) {
    const c = t.charCodeAt(i);
    if ((CLASS[c]! & C_LETTER) === 0 && c !== 95 && c !== 45) return false;
  }
  return true;
}

/** The one position where two templates of equal length differ (neither being <*> there), else -1. */
function singleDifference(a: readonly string[], b: readonly string[]): number {
  let p = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (p >= 0 || a[i]!.includes(WILDCARD) || b[i]!.includes(WILDCARD)) return -1;
    p = i;
  }
  return p;
}

interface ShapeMemo {
  check: number;
  cluster: MinedCluster;
  /** The line's word at its cluster's folded position (null when the cluster has none). */
  slot: Slot | null;
}

function joinTokens(toks: readonly string[], seps: readonly string[] | null): string {
  let out = '';
  for (let i = 0; i < toks.length; i++) out += (i === 0 ? '' : seps === null ? ' ' : seps[i]!) + toks[i]!;
  return out;
}

/** One per thread: scratch state valid within one addUtf8 call, and miners of a thread never run interleaved. */
const sharedByteShape = new ByteShape();

export const OVERFLOW_ID = 0;
export const OVERFLOW_TEMPLATE = '<overflow>';
export const EMPTY_TEMPLATE = '<empty>';

export class TemplateMiner {
  readonly stats = { clusters: 0, evictions: 0, overflow: 0, truncated: 0 };
  private readonly maxClusters: number;
  private readonly maxLineLength: number;
  private readonly threshold: number;
  private readonly cacheSize: number;
  private readonly siblings: number;
  private readonly recur: number;
  /** Moves since the last takeMoves() (only with recordMoves). */
  private moves: Move[] = [];
  private readonly recordMoves: boolean;
  /** The slot of the line added last (see lastAssignment). */
  private lastSlot: Slot | null = null;
  private lastCluster: MinedCluster | null = null;
  private readonly slotIds = new Map<number, Slot>();
  private nextSlotId = 1;
  private readonly slotUid = new WeakMap<Slot, number>();
  /** Shared with the thread's other miners (sharedScanner): valid only within one call. */
  private readonly scanner: LineScanner;
  /** Shape hashes from UTF-8 bytes (addUtf8); scratch like the scanner, shared by the thread's miners. */
  private readonly byteShape: ByteShape = sharedByteShape;
  private readonly buckets = new Map<string, MinedCluster[]>();
  private readonly live = new Map<number, MinedCluster>();
  /** id -> surviving cluster id, for clusters merged away (used by the CLI's assignments). */
  private readonly forward = new Map<number, number>();
  /** Shape memo: key = 30 bits of one hash (a Smi, so no heap-number keys), checked against the other hash. */
  private readonly shapes = new Map<number, ShapeMemo>();
  private touched: MinedCluster[] = [];
  private evictedPending: Drained[] = [];
  private readonly overflowCluster: MinedCluster;
  private nextId = 1;
  private clock = 0;

  constructor(opts: MinerOptions = {}) {
    this.maxClusters = Math.max(1, opts.maxClusters ?? 1000);
    this.maxLineLength = Math.max(16, opts.maxLineLength ?? 4096);
    this.threshold = opts.similarity ?? 0.75;
    this.siblings = opts.siblings ?? 5;
    this.recur = opts.recur ?? 3;
    this.recordMoves = opts.recordMoves ?? false;
    this.cacheSize = opts.shapeCache ?? this.maxClusters * 8;
    this.scanner = sharedScanner(this.maxLineLength, 0);
    this.overflowCluster = new MinedCluster(OVERFLOW_ID, [OVERFLOW_TEMPLATE], null, '');
  }

  /** `bytes`: the record's protobuf size, summed per template as its cost. */
  add(line: string, timeMs = 0, bytes = 0): Cluster {
    return this.addRange(line, 0, line.length, timeMs, 1, bytes);
  }

  /** Mine text[start, end) without slicing it out (the CLI feeds whole file chunks). */
  addRange(text: string, start: number, end: number, timeMs = 0, count = 1, bytes = 0): MinedCluster {
    if (end - start > this.maxLineLength) {
      end = start + this.maxLineLength;
      this.stats.truncated++;
    }
    const sc = this.scanner;
    sc.scan(text, start, end);
    const key = sc.h1 & 0x3fffffff;
    const check = sc.h2;
    let memo = this.shapes.get(key);
    if (memo !== undefined && memo.check !== check) memo = undefined;
    let c: MinedCluster | null = null;
    let slot: Slot | null = null;
    if (memo !== undefined) {
      slot = memo.slot;
      c = resolve(slot !== null ? slot.owner : memo.cluster);
    }
    if (c === null) {
      c = this.place(count);
      slot = this.placed;
      if (memo !== undefined) {
        memo.cluster = c;
        memo.slot = slot;
      } else {
        if (this.shapes.size >= this.cacheSize) this.shapes.clear();
        this.shapes.set(key, { check, cluster: c, slot });
      }
    } else if (c.track !== null && (slot === null || slot.track !== c.track) && sc.n === c.tokens.length) {
      // The cluster folded a position since this shape was seen: find the line's word there (rare).
      slot = this.slotIn(c, sc.token(c.track.pos));
      memo!.slot = slot;
    }
    this.count(c, slot, timeMs, count, bytes);
    if (!c.touched) {
      c.touched = true;
      c.example = start === 0 && end === text.length ? text : text.slice(start, end);
      this.touched.push(c);
    }
    return c;
  }

  /**
   * addRange(utf8 decoded, …) for a line given as its UTF-8 bytes buf[start, end) (a log body in a request), without
   * making a string when the line is ASCII and its shape is known with nothing to update but counters: the shape is
   * hashed from the bytes (ByteShape, the same hashes as the string scanner's). Every other line (non-ASCII, a new
   * shape, a shape whose cluster folded a position since) is decoded and goes through addRange, so the result is
   * always addRange's. `decode` makes the string of buf[start, end) (the caller's UTF-8 decoder).
   */
  addUtf8(buf: Uint8Array, start: number, end: number, decode: (buf: Uint8Array, start: number, end: number) => string, timeMs = 0, bytes = 0): MinedCluster {
    const e = end - start > this.maxLineLength ? start + this.maxLineLength : end;
    const bs = this.byteShape;
    if (bs.scan(buf, start, e, end)) {
      let memo = this.shapes.get(bs.h1 & 0x3fffffff);
      if (memo !== undefined && memo.check !== bs.h2) memo = undefined;
      if (memo !== undefined) {
        const slot = memo.slot;
        const c = resolve(slot !== null ? slot.owner : memo.cluster);
        // addRange's hit without its rare refold branch (that one needs the line's tokens).
        if (c !== null && !(c.track !== null && (slot === null || slot.track !== c.track) && bs.n === c.tokens.length)) {
          if (e < end) this.stats.truncated++;
          this.count(c, slot, timeMs, 1, bytes);
          if (!c.touched) {
            c.touched = true;
            // ASCII: the bytes are the string's code units (what addRange keeps: the line cut at the limit).
            c.example = decode(buf, start, e);
            this.touched.push(c);
          }
          return c;
        }
      }
    }
    const text = decode(buf, start, end);
    return this.addRange(text, 0, text.length, timeMs, 1, bytes);
  }

  /** Count `count` lines of `bytes` into c (and its slot): the part of addRange after the line's cluster is known. */
  private count(c: MinedCluster, slot: Slot | null, timeMs: number, count: number, bytes: number): void {
    if (c === this.overflowCluster) this.stats.overflow += count;
    else c.lastUsed = ++this.clock;
    c.hit(count, timeMs, bytes);
    this.lastCluster = c;
    this.lastSlot = null;
    if (slot !== null && slot.track === c.track) {
      this.lastSlot = slot;
      slot.n += count;
      slot.pending += count;
      slot.bytes += bytes;
      slot.pendingBytes += bytes;
      if (slot.n >= this.recur && slot.n - count < this.recur) this.trySplit(c);
    }
  }

  addTemplate(template: string, count: number, timeMs = 0, bytes = 0): Cluster {
    return this.addRange(template, 0, template.length, timeMs, count, bytes);
  }

  /**
   * A template another miner made (a fleet's instance learning what the others stored), with no lines of its
   * own: placed as addTemplate(template, 0) would, then the clusters of its bucket it covers join it. Without
   * that, a literal cluster of this miner ("Starting service foo") would keep its lines apart from the general
   * template the fleet settled on ("Starting service <*>"): an exact match wins over a wildcard.
   */
  learn(template: string, timeMs = 0): Cluster {
    const c = this.addRange(template, 0, template.length, timeMs, 0, 0);
    if (c === this.overflowCluster || c.mergedInto !== null) return c;
    const list = this.buckets.get(c.bucket);
    if (list === undefined) return c;
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!;
      if (b === c || !covers(c.tokens, b.tokens)) continue;
      this.merge(b, c);
      list.splice(i, 1);
      i--;
    }
    return c;
  }

  /** A stored template (after a restart): its id, text, lines and record bytes of all time. */
  restore(id: number, template: string, count: number, bytes = 0): void {
    const sc = this.scanner;
    const end = Math.min(template.length, this.maxLineLength);
    sc.scan(template, 0, end);
    const toks = this.lineTokens();
    const seps = this.lineSeps();
    const key = this.bucketKey(toks);
    if (this.live.size >= this.maxClusters) this.evict(true);
    const c = this.create(id, toks, key);
    c.seps = seps;
    c.count = count;
    c.bytes = bytes;
    if (id >= this.nextId) this.nextId = id + 1;
  }

  drain(): Drained[] {
    const out = this.evictedPending;
    this.evictedPending = [];
    for (const c of this.touched) {
      c.touched = false;
      if (c.pending > 0 && c.mergedInto === null) this.report(c, out);
      c.pending = 0;
      c.pendingBytes = 0;
      c.example = null;
    }
    this.touched = [];
    return out;
  }

  /** Merges and splits since the last call (see Move); empty unless recordMoves. */
  takeMoves(): Move[] {
    const out = this.moves;
    this.moves = [];
    return out;
  }

  /**
   * Where the line added last belongs, as a number for finalId(): its cluster's id, or
   * (when that cluster has a folded position that may still split) its word there.
   */
  get lastAssignment(): number {
    const s = this.lastSlot;
    if (s === null) return this.lastCluster?.id ?? OVERFLOW_ID;
    let id = this.slotUid.get(s);
    if (id === undefined) {
      id = this.nextSlotId++;
      this.slotUid.set(s, id);
      this.slotIds.set(id, s);
    }
    return -id;
  }

  /** The template id a lastAssignment value belongs to now (after merges and splits). */
  finalId(a: number): number {
    if (a >= 0) return this.currentId(a);
    const s = this.slotIds.get(-a)!;
    let c = s.owner;
    while (c.mergedInto !== null) c = c.mergedInto;
    return c.id;
  }

  clusters(): Cluster[] {
    const out: Cluster[] = [...this.live.values()];
    if (this.overflowCluster.count > 0) out.push(this.overflowCluster);
    return out;
  }

  /** The id that a line assigned to `id` belongs to now (after merges). */
  currentId(id: number): number {
    let f = this.forward.get(id);
    while (f !== undefined) {
      id = f;
      f = this.forward.get(id);
    }
    return id;
  }

  // ------------------------------------------------------------------ internals

  /**
   * Pending counts of c as drained entries. A cluster with a folded position reports one
   * entry per word there, so the writer's canonical miner sees the same words and makes
   * the same fold or split.
   */
  private report(c: MinedCluster, out: Drained[]): void {
    const d = this.reportOne(c);
    const t = c.track;
    if (t === null) {
      out.push(d);
      return;
    }
    for (const s of t.slots.values()) {
      if (s.pending === 0) continue;
      const toks = c.tokens.slice();
      toks[t.pos] = s.value;
      out.push({ ...d, template: joinTokens(toks, c.seps), count: s.pending, bytes: s.pendingBytes });
      s.pending = 0;
      s.pendingBytes = 0;
    }
  }

  private reportOne(c: MinedCluster): Drained {
    let example = '';
    if (c.example !== null) {
      const ex = c.example;
      if (c === this.overflowCluster) example = ex.slice(0, 256);
      else {
        // The other shared scanner: report() runs in the middle of mining a line (eviction).
        const sc = sharedScanner(this.maxLineLength, 1);
        sc.scan(ex, 0, Math.min(ex.length, this.maxLineLength));
        example = sc.masked();
      }
    }
    return { id: c.id, template: c.template(), count: c.pending, bytes: c.pendingBytes, example, firstSeen: c.firstSeen, lastSeen: c.lastSeen };
  }

  private lineTokens(): string[] {
    const sc = this.scanner;
    // An empty (or all-whitespace) line gets a name that shows: `""` reads as nothing in a report.
    if (sc.n === 0) return [EMPTY_TEMPLATE];
    const toks = new Array<string>(sc.n);
    for (let i = 0; i < sc.n; i++) toks[i] = sc.token(i);
    return toks;
  }

  private lineSeps(): string[] | null {
    const sc = this.scanner;
    let plain = true;
    for (let i = 1; i < sc.n && plain; i++) plain = sc.tokStart[i]! - sc.tokEnd[i - 1]! === 1 && sc.text.charCodeAt(sc.tokStart[i]! - 1) === 32;
    if (plain) return null;
    const seps = new Array<string>(sc.n);
    seps[0] = '';
    for (let i = 1; i < sc.n; i++) seps[i] = sc.separator(i);
    return seps;
  }

  /** Tree key: token count and the first token when it is a plain word. */
  private bucketKey(toks: readonly string[]): string {
    const sc = this.scanner;
    const first = toks.length > 0 && (sc.tokFlags[0]! & (F_DIGIT | F_MASK)) === 0 && isPlainWord(toks[0]!) ? toks[0]! : WILDCARD;
    return `${toks.length} ${first}`;
  }

  /** The slot of the line place() placed last (null when its cluster has no folded position). */
  private placed: Slot | null = null;

  /** Cache miss: find or create the cluster of the scanned line; sets `placed`. */
  private place(_count: number): MinedCluster {
    const toks = this.lineTokens();
    this.aligned = null;
    const c = this.placeTokens(toks.slice());
    const t = c.track;
    if (t === null) this.placed = null;
    else {
      const at = this.aligned === null ? t.pos : this.aligned[t.pos]!;
      this.placed = at < 0 ? null : this.slotIn(c, toks[at]!);
    }
    return c;
  }

  private placeTokens(toks: string[]): MinedCluster {
    const key = this.bucketKey(toks);
    const list = this.buckets.get(key);
    let best: MinedCluster | null = null;
    let bestSim = -1;
    if (list !== undefined) {
      for (const c of list) {
        if (this.blocked(c.tokens, toks)) continue;
        const s = similarity(c.tokens, toks);
        if (s > bestSim) {
          bestSim = s;
          best = c;
        }
      }
    }
    if (best !== null && bestSim >= this.threshold) {
      const changed = generalize(best.tokens, toks);
      if (changed > 0) {
        best.changed();
        this.absorbCovered(best, list!);
      }
      return best;
    }
    const other = this.optionalMatch(toks, key);
    if (other !== null) return other;
    if (this.live.size >= this.maxClusters && !this.evict()) return this.overflowCluster;
    const c = this.create(this.nextId++, toks, key);
    c.seps = this.lineSeps();
    return list === undefined ? c : this.foldSiblings(c, list);
  }

  /** Template position -> line position of the last optionalMatch (null when the line had the template's length). */
  private aligned: Int32Array | null = null;

  /**
   * A cluster of another length (same first token) that the line matches but for optional
   * parts (see align.ts); the line joins it. Cache misses only.
   */
  private optionalMatch(toks: readonly string[], key: string): MinedCluster | null {
    this.aligned = null;
    const first = key.slice(key.indexOf(' ') + 1);
    const n = toks.length;
    for (let d = 1; d <= MAX_EXTRA; d++) {
      for (const len of [n - d, n + d]) {
        if (len < 2) continue;
        const list = this.buckets.get(`${len} ${first}`);
        if (list === undefined) continue;
        for (const c of list) {
          const map = alignOptional(c.tokens, toks, this.threshold);
          if (map === null) continue;
          this.aligned = map;
          // Values aligned with a constant of the template make it a variable there.
          let changed = false;
          for (let i = 0; i < map.length; i++) {
            const j = map[i]!;
            if (j < 0 || tokenMatches(c.tokens[i]!, toks[j]!)) continue;
            c.tokens[i] = generalizeToken(c.tokens[i]!, toks[j]!);
            changed = true;
          }
          if (changed) {
            c.changed();
            this.absorbCovered(c, list);
          }
          return resolve(c) ?? c;
        }
      }
    }
    return null;
  }

  /** Does the line differ from the template in a constant word (see blocks())? */
  private blocked(tpl: readonly string[], toks: readonly string[]): boolean {
    for (let i = 0; i < tpl.length; i++) {
      const t = tpl[i]!;
      const w = toks[i]!;
      if (t === w || tokenMatches(t, w) || !blocks(t, w)) continue;
      // A unit right after a number (`5.2 KB` / `93.0 B`) belongs to the number.
      if (i > 0 && isUnit(t) && isUnit(w) && toks[i - 1]!.endsWith('<NUM>')) continue;
      return true;
    }
    return false;
  }

  /**
   * A position is a variable when `siblings` clusters are equal everywhere but there:
   * a word that takes many values (user names, hosts) is not a constant, even though
   * one differing word is enough to keep two short lines apart. Two or three values
   * (on/off, enable/disable) stay separate templates.
   */
  private foldSiblings(c: MinedCluster, list: MinedCluster[]): MinedCluster {
    const n = c.tokens.length;
    if (n < 2) return c;
    let byPos: Map<number, MinedCluster[]> | null = null;
    for (const d of list) {
      if (d === c) continue;
      const p = singleDifference(c.tokens, d.tokens);
      if (p < 0) continue;
      byPos ??= new Map();
      let g = byPos.get(p);
      if (g === undefined) byPos.set(p, (g = []));
      g.push(d);
      if (g.length + 1 < this.siblings) continue;
      // Few words that each recur (GET/POST/DELETE; Started/Paused/Stopped) are constants
      // of different templates; many, or mostly rare ones (user names), are a variable.
      let rare = 1; // c itself: new
      for (const d2 of g) if (d2.count < this.recur) rare++;
      if (rare * 2 < g.length + 1 && g.length + 1 <= MAX_CLOSED) continue;
      const survivor = g[0]!;
      let tok = c.tokens[p]!;
      for (const d2 of g) tok = generalizeToken(tok, d2.tokens[p]!);
      const own = survivor.tokens[p]!;
      survivor.tokens[p] = tok;
      survivor.changed();
      if (survivor.track === null && isConstWord(own) && !this.anyTracked(g)) {
        // Count every word here from now on, the folded clusters' lines included (merge()).
        const t = new Tracker(p, own);
        survivor.track = t;
        const s = new Slot(t, own, survivor);
        s.n = survivor.count;
        s.pending = survivor.pending;
        s.bytes = survivor.bytes;
        s.pendingBytes = survivor.pendingBytes;
        t.slots.set(own, s);
      } else survivor.track = null;
      this.absorbCovered(survivor, list);
      return survivor;
    }
    return c;
  }

  private create(id: number, toks: string[], key: string): MinedCluster {
    const c = new MinedCluster(id, toks, null, key);
    let list = this.buckets.get(key);
    if (list === undefined) this.buckets.set(key, (list = []));
    list.push(c);
    this.live.set(id, c);
    this.stats.clusters = this.live.size;
    c.lastUsed = ++this.clock;
    return c;
  }

  /**
   * After `a` got more general, fold into it the clusters of its bucket that a line of
   * theirs would now join: those it covers, and those it matches with no constant
   * word apart (a position `a` has learned is a variable stops keeping them apart).
   */
  private absorbCovered(a: MinedCluster, list: MinedCluster[]): void {
    for (let again = true; again; ) {
      again = false;
      for (let i = 0; i < list.length; i++) {
        const b = list[i]!;
        if (b === a) continue;
        if (!covers(a.tokens, b.tokens)) {
          if (this.blocked(a.tokens, b.tokens) || similarity(a.tokens, b.tokens) < this.threshold) continue;
          if (generalize(a.tokens, b.tokens) > 0) {
            a.changed();
            again = true;
          }
        }
        this.merge(b, a);
        list.splice(i, 1);
        i--;
      }
    }
  }

  private anyTracked(g: readonly MinedCluster[]): boolean {
    for (const d of g) if (d.track !== null) return true;
    return false;
  }

  /** The slot of word v at c's folded position; drops the tracking (null) when v shows the position is a variable. */
  private slotIn(c: MinedCluster, v: string): Slot | null {
    const t = c.track!;
    let s = t.slots.get(v);
    if (s !== undefined) return s;
    if (t.slots.size >= MAX_CLOSED || !isConstWord(v)) {
      c.track = null;
      return null;
    }
    s = new Slot(t, v, c);
    t.slots.set(v, s);
    return s;
  }

  /** Keep `into`'s per-word counts exact when `from` joins it. */
  private mergeSlots(from: MinedCluster, into: MinedCluster): void {
    const t = into.track!;
    const ft = from.track;
    if (ft === null) {
      const s = this.slotIn(into, from.tokens[t.pos]!);
      if (s === null) return;
      s.n += from.count;
      s.pending += from.pending;
      s.bytes += from.bytes;
      s.pendingBytes += from.pendingBytes;
      s.absorbed.push(from);
      return;
    }
    if (ft.pos !== t.pos) {
      into.track = null;
      return;
    }
    for (const fs of ft.slots.values()) {
      const s = this.slotIn(into, fs.value);
      if (s === null) return;
      s.n += fs.n;
      s.pending += fs.pending;
      s.bytes += fs.bytes;
      s.pendingBytes += fs.pendingBytes;
      for (const d of fs.absorbed) s.absorbed.push(d);
    }
    this.slotIn(into, ft.own)?.absorbed.push(from);
  }

  /**
   * Undo a fold once the words at the folded position prove to be a small closed set:
   * (nearly) every word recurs. Each word becomes its own template with its exact count;
   * the tracked cluster keeps its own word (and id), so stored counts move, never vanish.
   */
  private trySplit(c: MinedCluster): void {
    const t = c.track;
    if (t === null || t.slots.size < 2) return;
    let rare = 0;
    for (const s of t.slots.values()) if (s.n < this.recur) rare++;
    if (rare * 4 > t.slots.size) return;
    if (this.live.size + t.slots.size - 1 > this.maxClusters) return;
    c.track = null;
    const p = t.pos;
    const before = this.recordMoves ? c.template() : '';
    for (const s of t.slots.values()) {
      let part = c;
      if (s.value === t.own) {
        c.tokens[p] = s.value;
        c.count = s.n;
        c.pending = s.pending;
        c.bytes = s.bytes;
        c.pendingBytes = s.pendingBytes;
        c.changed();
      } else {
        const toks = c.tokens.slice();
        toks[p] = s.value;
        part = this.create(this.nextId++, toks, c.bucket);
        part.seps = c.seps;
        part.count = s.n;
        part.pending = s.pending;
        part.bytes = s.bytes;
        part.pendingBytes = s.pendingBytes;
        part.firstSeen = c.firstSeen;
        part.lastSeen = c.lastSeen;
        part.lastUsed = c.lastUsed;
        if (s.pending > 0) {
          part.touched = true;
          this.touched.push(part);
        }
        if (this.recordMoves) this.moves.push({ from: c, to: part, count: s.n, bytes: s.bytes, merged: false, fromTemplate: before });
      }
      for (const d of s.absorbed) {
        d.mergedInto = part;
        this.forward.set(d.id, part.id);
      }
      s.owner = part;
      s.pending = 0;
      s.pendingBytes = 0;
    }
  }

  private merge(from: MinedCluster, into: MinedCluster): void {
    if (this.recordMoves) this.moves.push({ from, to: into, count: from.count, bytes: from.bytes, merged: true, fromTemplate: from.template() });
    if (into.track !== null) this.mergeSlots(from, into);
    into.count += from.count;
    into.bytes += from.bytes;
    if (from.pending > 0) {
      if (into.pending === 0) {
        into.firstSeen = from.firstSeen;
        into.lastSeen = from.lastSeen;
      } else {
        if (from.firstSeen < into.firstSeen) into.firstSeen = from.firstSeen;
        if (from.lastSeen > into.lastSeen) into.lastSeen = from.lastSeen;
      }
      into.pending += from.pending;
      into.pendingBytes += from.pendingBytes;
      if (into.example === null) into.example = from.example;
      if (!into.touched) {
        into.touched = true;
        this.touched.push(into);
      }
    }
    from.pending = 0;
    from.pendingBytes = 0;
    from.alive = false;
    from.mergedInto = into;
    if (into.lastUsed < from.lastUsed) into.lastUsed = from.lastUsed;
    this.live.delete(from.id);
    this.forward.set(from.id, into.id);
    this.stats.clusters = this.live.size;
  }

  /**
   * Evict the least recently used cluster. Refused (returns false) when even that one
   * was used within the last 4 × maxClusters lines: the miner is thrashing on more distinct
   * shapes than it can hold, and the line goes to the overflow cluster instead of
   * washing out the established templates.
   */
  private evict(force = false): boolean {
    let victim: MinedCluster | null = null;
    for (const c of this.live.values()) if (victim === null || c.lastUsed < victim.lastUsed) victim = c;
    if (victim === null) return true;
    if (!force && this.clock - victim.lastUsed < 4 * this.maxClusters) return false;
    if (victim.pending > 0) this.report(victim, this.evictedPending);
    victim.pending = 0;
    victim.pendingBytes = 0;
    victim.alive = false;
    this.live.delete(victim.id);
    const list = this.buckets.get(victim.bucket)!;
    list.splice(list.indexOf(victim), 1);
    if (list.length === 0) this.buckets.delete(victim.bucket);
    this.stats.evictions++;
    this.stats.clusters = this.live.size;
    return true;
  }
}
