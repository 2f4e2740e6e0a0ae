/**
 * The writer's mirror of what the store holds that SQL cannot merge by
 * itself: key sets (sorted unions), sketches (register max), the canonical
 * template miners. Counts are not mirrored: they travel as increments and
 * the store adds them (`count = count + excluded.count`).
 *
 * applyBatch() folds one worker's DeltaBatch in; takeChanges() hands the rows
 * touched since the last call to the store and resets the increments.
 */
import {
  entityKey,
  maxText,
  maxTime,
  minTime,
  unionSorted,
  type DeltaBatch,
  type KeyScope,
} from '../model/delta.js';
import type { MetricType } from '../model/otlp.js';
import { Hll } from '../sketch/hll.js';
import { TemplateMiner, type Cluster } from '../mine/miner.js';
import { TemplateLog, type TemplateOp } from './template-log.js';
import type { EstimateBucket, EstimateSample } from '../store/series-estimates.js';

interface Seen {
  firstSeen: number;
  lastSeen: number;
}

export interface ServiceRow extends Seen {
  name: string;
  logRecords: number;
  spans: number;
  metricPoints: number;
  logBytes: number;
  spanBytes: number;
  metricBytes: number;
}

export interface MetricRow extends Seen {
  service: string;
  name: string;
  type: MetricType;
  unit: string;
  description: string;
  monotonic: boolean;
  temporality: number;
  labelKeys: string[];
  resourceKeys: string[];
  points: number;
  bytes: number;
  overflowPoints: number;
  buckets: number;
  series: Hll;
  /** The latest receive minute with data for this row (the bucket its estimate is recorded in; src/store/series-estimates.ts). */
  estimateMinute?: number | undefined;
}

export interface LabelRow extends Seen {
  service: string;
  metric: string;
  key: string;
  samples: number;
  bytes: number;
  sketch: Hll;
  /** As MetricRow.estimateMinute. */
  estimateMinute?: number | undefined;
}

export interface SpanRow extends Seen {
  service: string;
  name: string;
  kind: number;
  attributeKeys: string[];
  resourceKeys: string[];
  eventNames: string[];
  count: number;
  bytes: number;
  statusUnset: number;
  statusOk: number;
  statusError: number;
}

export interface LogRow extends Seen {
  service: string;
  severity: string;
  attributeKeys: string[];
  resourceKeys: string[];
  bodyKeys: string[];
  count: number;
  bytes: number;
}

export interface KeyRow extends Seen {
  service: string;
  scope: KeyScope;
  key: string;
  samples: number;
  bytes: number;
  sketch: Hll;
}

export interface TemplateRow extends Seen {
  service: string;
  severity: string;
  cluster: Cluster;
  count: number;
  bytes: number;
  example: string;
  /** The canonical miner merged this template into another (which took its count): delete the stored row. */
  removed?: boolean;
}

export interface VersionRow extends Seen {
  service: string;
  version: string;
  records: number;
  bytes: number;
}

/** What a history bucket counts: one kind of entity (DESIGN §9). */
export type HistoryKind = 'log' | 'template' | 'metric' | 'span' | 'key';
export const HISTORY_KINDS: readonly HistoryKind[] = ['log', 'template', 'metric', 'span', 'key'];

/**
 * One entity's counts and bytes in one minute. The entity is (kind, service,
 * name, sub): log (severity, ''), template (severity, template id), metric
 * (name, ''), span (name, kind number), key (scope, key).
 */
export interface HistoryRow {
  minute: number;
  kind: HistoryKind;
  service: string;
  name: string;
  sub: string;
  count: number;
  bytes: number;
  /**
   * A template's text when its first lines of this minute were filed (kind `template` only): PostgreSQL keys a
   * template's history by the hash of its text, as its rows, since cluster ids are an instance's own.
   */
  template?: string;
}

/**
 * Lines of all time that changed template in the canonical miner (Move in
 * src/mine/miner.ts), for the history: a merge moves all of `from`'s
 * buckets to `to`; a split moves `count` and `bytes` of them, spread over
 * `from`'s buckets in proportion (which minutes those lines came in is not
 * known). `from` and `to` are template ids (the history's sub).
 */
export interface HistoryMove {
  service: string;
  severity: string;
  from: string;
  to: string;
  merged: boolean;
  count: number;
  bytes: number;
}

/**
 * Rows touched since the last takeChanges(). Count fields hold increments;
 * every other field holds the current full value.
 */
export interface ChangeSet {
  services: ServiceRow[];
  metrics: MetricRow[];
  labels: LabelRow[];
  spans: SpanRow[];
  logs: LogRow[];
  keys: KeyRow[];
  templates: TemplateRow[];
  /**
   * The same template changes as an ordered log of adds and moves by template text (see template-log.ts), for
   * a store whose rows other writers share (empty unless it called shareTemplates()); `templates` holds their
   * net effect on this miner's rows.
   */
  templateOps: TemplateOp[];
  versions: VersionRow[];
  /** Minute buckets: increments since the last takeChanges(). */
  history: HistoryRow[];
  /** Template moves since the last takeChanges(), in order; applied after `history`. */
  historyMoves: HistoryMove[];
  acks: number[];
  records: { logs: number; metrics: number; traces: number };
  /** Estimates of minutes that closed while their rows waited for this commit (see WriterState.closeEstimate). */
  estimateSamples?: EstimateSample[];
  /** Estimate rows to merge as they are (an import's); the writer's commits have none. */
  estimateBuckets?: EstimateBucket[];
  /** `meta` keys to set in the same transaction (an import's dump id, a dump's salt); absent from the writer's commits. */
  meta?: Record<string, string>;
}

/** What the store holds of one sketched row, for rows the writer does not have in memory. */
export interface StoredSketch {
  sketch: Uint8Array;
  firstSeen: number;
  lastSeen: number;
}

/**
 * Looks sketched rows up in the store. Key and label rows are the ones that
 * grow with the data (one per key), so the writer keeps only a bounded number
 * of them in memory and fetches the others when a delta touches them.
 */
export interface SketchLoader {
  key(service: string, scope: KeyScope, key: string): StoredSketch | undefined;
  label(service: string, metric: string, key: string): StoredSketch | undefined;
}

/** A table of mirrored rows plus which of them changed. */
class Table<R> {
  readonly rows = new Map<string, R>();
  readonly dirty = new Set<R>();

  take(reset: (row: R) => void): R[] {
    const out: R[] = [];
    for (const r of this.dirty) out.push({ ...r });
    for (const r of this.dirty) reset(r);
    this.dirty.clear();
    return out;
  }

  /** Moves a row to the young end of the map's order (Maps iterate in insertion order), for LRU eviction. */
  touch(k: string, r: R): void {
    this.rows.delete(k);
    this.rows.set(k, r);
  }

  /** Drops the least recently touched clean rows until at most `max` remain; dirty rows wait for their commit. */
  evict(max: number): number {
    let n = 0;
    for (const [k, r] of this.rows) {
      if (this.rows.size <= max) break;
      if (this.dirty.has(r)) continue;
      this.rows.delete(k);
      n++;
    }
    return n;
  }
}

export interface WriterStateOptions {
  precision: number;
  minerMaxClusters: number;
  minerMaxLineLength: number;
  /** Key and label rows (with their sketches) kept in memory; the rest live in the store only. */
  sketchCacheRows: number;
  /** 'off': no minute buckets (ChangeSet.history stays empty). Default on. */
  history?: 'on' | 'off';
}

export class WriterState {
  readonly services = new Table<ServiceRow>();
  readonly metrics = new Table<MetricRow>();
  readonly labels = new Table<LabelRow>();
  readonly spans = new Table<SpanRow>();
  readonly logs = new Table<LogRow>();
  readonly keys = new Table<KeyRow>();
  readonly templates = new Table<TemplateRow>();
  readonly versions = new Table<VersionRow>();
  /** Minute-bucket increments of this commit, by entityKey(kind, service, name, sub, minute). */
  private history = new Map<string, HistoryRow>();
  private historyMoves: HistoryMove[] = [];
  private readonly miners = new Map<string, TemplateMiner>();
  /** Only for a store whose template rows other writers share (shareTemplates()); the others need no log. */
  private templateLog: TemplateLog | undefined;
  /** Estimates of closed minutes of rows not committed since (see closeEstimate). */
  private estimateSamples: EstimateSample[] = [];
  private acks: number[] = [];
  private records = { logs: 0, metrics: 0, traces: 0 };

  /** Key rows in the store plus new ones not yet committed: for /metrics, since not all are in memory. */
  keyCount = 0;

  constructor(
    private readonly opts: WriterStateOptions,
    private readonly loader?: SketchLoader,
  ) {}

  /** The canonical miner of one (service, severity). */
  miner(service: string, severity: string): TemplateMiner {
    const k = entityKey(service, severity);
    let m = this.miners.get(k);
    if (!m) {
      m = new TemplateMiner({ maxClusters: this.opts.minerMaxClusters, maxLineLength: this.opts.minerMaxLineLength, recordMoves: true });
      this.miners.set(k, m);
    }
    return m;
  }

  minerStats(): { templates: number; evictions: number; overflow: number } {
    let templates = 0;
    let evictions = 0;
    let overflow = 0;
    for (const m of this.miners.values()) {
      templates += m.stats.clusters;
      evictions += m.stats.evictions;
      overflow += m.stats.overflow;
    }
    return { templates, evictions, overflow };
  }

  /** Bytes held by the sketches of the rows in memory (Hll.byteSize, overheads included). */
  sketchBytes(): number {
    let n = 0;
    for (const r of this.keys.rows.values()) n += r.sketch.byteSize();
    for (const r of this.labels.rows.values()) n += r.sketch.byteSize();
    for (const r of this.metrics.rows.values()) n += r.series.byteSize();
    return n;
  }

  hasChanges(): boolean {
    return (
      this.acks.length > 0 || (this.templateLog?.size ?? 0) > 0 ||
      this.services.dirty.size + this.metrics.dirty.size + this.labels.dirty.size + this.spans.dirty.size > 0 ||
      this.logs.dirty.size + this.keys.dirty.size + this.templates.dirty.size + this.versions.dirty.size > 0
    );
  }

  /** Adds to the minute bucket of one entity (every record of a batch was received in b.minute). */
  private bucket(minute: number, kind: HistoryKind, service: string, name: string, sub: string, count: number, bytes: number, template?: string): void {
    if ((count === 0 && bytes === 0) || this.opts.history === 'off') return;
    const k = entityKey(kind, service, name, sub, minute);
    const h = this.history.get(k);
    if (h) {
      h.count += count;
      h.bytes += bytes;
    } else {
      this.history.set(k, template === undefined ? { minute, kind, service, name, sub, count, bytes } : { minute, kind, service, name, sub, count, bytes, template });
    }
  }

  applyBatch(b: DeltaBatch): void {
    const minute = b.minute;
    for (const d of b.services) {
      const k = d.name;
      let r = this.services.rows.get(k);
      if (!r) {
        r = { name: d.name, logRecords: 0, spans: 0, metricPoints: 0, logBytes: 0, spanBytes: 0, metricBytes: 0, firstSeen: d.firstSeen, lastSeen: d.lastSeen };
        this.services.rows.set(k, r);
      }
      r.logRecords += d.logRecords;
      r.spans += d.spans;
      r.metricPoints += d.metricPoints;
      r.logBytes += d.logBytes;
      r.spanBytes += d.spanBytes;
      r.metricBytes += d.metricBytes;
      this.seen(r, d);
      this.services.dirty.add(r);
    }
    for (const d of b.metrics) {
      const k = entityKey(d.service, d.name);
      let r = this.metrics.rows.get(k);
      if (!r) {
        r = {
          service: d.service,
          name: d.name,
          type: d.type,
          unit: d.unit,
          description: d.description,
          monotonic: d.monotonic,
          temporality: d.temporality,
          labelKeys: [],
          resourceKeys: [],
          points: 0,
          bytes: 0,
          overflowPoints: 0,
          buckets: 0,
          series: new Hll(this.opts.precision),
          firstSeen: d.firstSeen,
          lastSeen: d.lastSeen,
        };
        this.metrics.rows.set(k, r);
      }
      r.type = maxText(r.type, d.type) as MetricType;
      r.unit = maxText(r.unit, d.unit);
      r.description = maxText(r.description, d.description);
      r.monotonic = r.monotonic || d.monotonic;
      r.temporality = Math.max(r.temporality, d.temporality);
      r.labelKeys = unionSorted(r.labelKeys, d.labelKeys);
      r.resourceKeys = unionSorted(r.resourceKeys, d.resourceKeys);
      r.points += d.points;
      r.bytes += d.bytes;
      r.overflowPoints += d.overflowPoints;
      this.bucket(minute, 'metric', d.service, d.name, '', d.points, d.bytes);
      r.buckets = Math.max(r.buckets, d.buckets);
      this.closeEstimate(r, this.metrics.dirty.has(r), minute, 'series', r.name, '', r.series);
      r.series.mergeSerialized(d.series);
      this.seen(r, d);
      this.metrics.dirty.add(r);
    }
    for (const d of b.labels) {
      const k = entityKey(d.service, d.metric, d.key);
      let r = this.labels.rows.get(k);
      if (r) {
        this.labels.touch(k, r);
      } else {
        const stored = this.loader?.label(d.service, d.metric, d.key);
        r = {
          service: d.service, metric: d.metric, key: d.key, samples: 0, bytes: 0,
          sketch: stored ? Hll.deserialize(stored.sketch) : new Hll(this.opts.precision),
          firstSeen: stored?.firstSeen ?? d.firstSeen, lastSeen: stored?.lastSeen ?? d.lastSeen,
        };
        this.labels.rows.set(k, r);
      }
      r.samples += d.samples;
      r.bytes += d.bytes;
      this.closeEstimate(r, this.labels.dirty.has(r), minute, 'label', r.metric, r.key, r.sketch);
      r.sketch.mergeSerialized(d.sketch);
      this.seen(r, d);
      this.labels.dirty.add(r);
    }
    for (const d of b.spans) {
      const k = entityKey(d.service, d.name, d.kind);
      let r = this.spans.rows.get(k);
      if (!r) {
        r = {
          service: d.service,
          name: d.name,
          kind: d.kind,
          attributeKeys: [],
          resourceKeys: [],
          eventNames: [],
          count: 0,
          bytes: 0,
          statusUnset: 0,
          statusOk: 0,
          statusError: 0,
          firstSeen: d.firstSeen,
          lastSeen: d.lastSeen,
        };
        this.spans.rows.set(k, r);
      }
      r.attributeKeys = unionSorted(r.attributeKeys, d.attributeKeys);
      r.resourceKeys = unionSorted(r.resourceKeys, d.resourceKeys);
      r.eventNames = unionSorted(r.eventNames, d.eventNames);
      r.count += d.count;
      r.bytes += d.bytes;
      this.bucket(minute, 'span', d.service, d.name, String(d.kind), d.count, d.bytes);
      r.statusUnset += d.statusUnset;
      r.statusOk += d.statusOk;
      r.statusError += d.statusError;
      this.seen(r, d);
      this.spans.dirty.add(r);
    }
    for (const d of b.logs) {
      const k = entityKey(d.service, d.severity);
      let r = this.logs.rows.get(k);
      if (!r) {
        r = { service: d.service, severity: d.severity, attributeKeys: [], resourceKeys: [], bodyKeys: [], count: 0, bytes: 0, firstSeen: d.firstSeen, lastSeen: d.lastSeen };
        this.logs.rows.set(k, r);
      }
      r.attributeKeys = unionSorted(r.attributeKeys, d.attributeKeys);
      r.resourceKeys = unionSorted(r.resourceKeys, d.resourceKeys);
      r.bodyKeys = unionSorted(r.bodyKeys, d.bodyKeys);
      r.count += d.count;
      r.bytes += d.bytes;
      this.bucket(minute, 'log', d.service, d.severity, '', d.count, d.bytes);
      this.seen(r, d);
      this.logs.dirty.add(r);
    }
    for (const d of b.keys) {
      const k = entityKey(d.service, d.scope, d.key);
      let r = this.keys.rows.get(k);
      if (r) {
        this.keys.touch(k, r);
      } else {
        const stored = this.loader?.key(d.service, d.scope, d.key);
        if (!stored) this.keyCount++;
        r = {
          service: d.service, scope: d.scope, key: d.key, samples: 0, bytes: 0,
          sketch: stored ? Hll.deserialize(stored.sketch) : new Hll(this.opts.precision),
          firstSeen: stored?.firstSeen ?? d.firstSeen, lastSeen: stored?.lastSeen ?? d.lastSeen,
        };
        this.keys.rows.set(k, r);
      }
      r.samples += d.samples;
      r.bytes += d.bytes;
      this.bucket(minute, 'key', d.service, d.scope, d.key, d.samples, d.bytes);
      r.sketch.mergeSerialized(d.sketch);
      this.seen(r, d);
      this.keys.dirty.add(r);
    }
    for (const d of b.templates) {
      // Reconciliation (DESIGN §3): fold the worker's template into the
      // canonical miner, so the same line lands in the same stored template
      // whichever worker mined it.
      const miner = this.miner(d.service, d.severity);
      const cluster = miner.addTemplate(d.template, d.count, d.lastSeen, d.bytes);
      const r = this.templateRow(d.service, d.severity, cluster, d.example, d);
      r.count += d.count;
      r.bytes += d.bytes;
      this.bucket(minute, 'template', d.service, d.severity, String(cluster.id), d.count, d.bytes, cluster.template());
      if (r.example === '') r.example = d.example;
      this.seen(r, d);
      // Merges and splits move lines between templates: move the stored counts with them
      // (after the increment above, which the miner counted into `cluster` before any split).
      const moves = miner.takeMoves();
      this.templateLog?.mined(d.service, d.severity, cluster, moves, d.count, d.bytes, d.example, d);
      for (const mv of moves) {
        const from = this.templateRow(d.service, d.severity, mv.from, '', d);
        const to = this.templateRow(d.service, d.severity, mv.to, mv.to.template(), from);
        if (this.opts.history !== 'off') {
          this.historyMoves.push({ service: d.service, severity: d.severity, from: String(mv.from.id), to: String(mv.to.id), merged: mv.merged, count: mv.count, bytes: mv.bytes });
        }
        if (mv.merged) from.removed = true;
        else {
          from.count -= mv.count;
          from.bytes -= mv.bytes;
        }
        to.count += mv.count;
        to.bytes += mv.bytes;
        this.seen(to, from);
      }
    }
    for (const d of b.versions ?? []) {
      const k = entityKey(d.service, d.version);
      let r = this.versions.rows.get(k);
      if (!r) {
        r = { service: d.service, version: d.version, records: 0, bytes: 0, firstSeen: d.firstSeen, lastSeen: d.lastSeen };
        this.versions.rows.set(k, r);
      }
      r.records += d.records;
      r.bytes += d.bytes;
      this.seen(r, d);
      this.versions.dirty.add(r);
    }
    for (const t of b.acks) this.acks.push(t);
    this.records.logs += b.counters.records.logs;
    this.records.metrics += b.counters.records.metrics;
    this.records.traces += b.counters.records.traces;
  }

  /**
   * Folds a template another writer stored into the canonical miner (count 0), so that lines of one template end
   * in one stored row whichever instance mined them. The merges this causes, and the stored row itself when the
   * miner places it under another (more general) text, go to templateOps as moves. True when there are such moves.
   */
  learnTemplate(service: string, severity: string, template: string, lastSeen: number): boolean {
    this.templateLog ??= new TemplateLog();
    const miner = this.miner(service, severity);
    const before = this.templateLog.size;
    const cluster = miner.learn(template, lastSeen);
    this.templateLog.mined(service, severity, cluster, miner.takeMoves(), 0, 0, '', { firstSeen: lastSeen, lastSeen });
    this.templateLog.learned(service, severity, template, cluster);
    return this.templateLog.size > before;
  }

  /**
   * Keep ChangeSet.templateOps from now on: the store's template rows are shared with other writers (a fleet on
   * PostgreSQL), so it applies the ordered log of adds and moves instead of this miner's net row increments.
   */
  shareTemplates(): void {
    this.templateLog ??= new TemplateLog();
  }

  /** Lines of a stored template placed in `cluster` by text (an import), as templateOps sees them. */
  placedTemplate(row: TemplateRow, count: number, bytes: number, example: string, seen: Seen): void {
    if (!this.templateLog) return;
    const text = this.templateLog.sync(row.service, row.severity, row.cluster);
    this.templateLog.add(row.service, row.severity, row.cluster, text, count, bytes, example, seen);
  }

  /**
   * Before a row's sketch takes data of a later minute than it holds
   * uncommitted data of, the estimate of that earlier minute is kept as a
   * sample, so a commit that spans minutes (the test clock replaying hours, a
   * slow commit at a minute's turn) still records each minute's end. Costs one
   * estimate per row per minute, and only when the minute turns between commits.
   */
  private closeEstimate(r: MetricRow | LabelRow, dirty: boolean, minute: number, kind: EstimateSample['kind'], metric: string, label: string, sketch: Hll): void {
    if (this.opts.history === 'off') return;
    const prev = r.estimateMinute;
    if (prev !== undefined && minute > prev && dirty) {
      this.estimateSamples.push({ kind, service: r.service, metric, label, minute: prev, estimate: Math.round(sketch.estimate()) });
    }
    if (prev === undefined || minute > prev) r.estimateMinute = minute;
  }

  private templateRow(service: string, severity: string, cluster: Cluster, example: string, seen: Seen): TemplateRow {
    const k = entityKey(service, severity, cluster.id);
    let r = this.templates.rows.get(k);
    if (r) this.templates.touch(k, r);
    else {
      r = { service, severity, cluster, count: 0, bytes: 0, example, firstSeen: seen.firstSeen, lastSeen: seen.lastSeen };
      this.templates.rows.set(k, r);
    }
    r.cluster = cluster;
    this.templates.dirty.add(r);
    return r;
  }

  takeChanges(): ChangeSet {
    const zero = <T extends object>(fields: Array<keyof T>) => (r: T) => {
      for (const f of fields) (r as Record<keyof T, number>)[f] = 0;
    };
    const out: ChangeSet = {
      services: this.services.take(zero<ServiceRow>(['logRecords', 'spans', 'metricPoints', 'logBytes', 'spanBytes', 'metricBytes'])),
      metrics: this.metrics.take(zero<MetricRow>(['points', 'bytes', 'overflowPoints'])),
      labels: this.labels.take(zero<LabelRow>(['samples', 'bytes'])),
      spans: this.spans.take(zero<SpanRow>(['count', 'bytes', 'statusUnset', 'statusOk', 'statusError'])),
      logs: this.logs.take(zero<LogRow>(['count', 'bytes'])),
      keys: this.keys.take(zero<KeyRow>(['samples', 'bytes'])),
      templates: this.templates.take(zero<TemplateRow>(['count', 'bytes'])),
      templateOps: this.templateLog?.take() ?? [],
      versions: this.versions.take(zero<VersionRow>(['records', 'bytes'])),
      history: [...this.history.values()],
      historyMoves: this.historyMoves,
      estimateSamples: this.estimateSamples,
      acks: this.acks,
      records: this.records,
    };
    for (const r of out.templates) if (r.removed) this.templates.rows.delete(entityKey(r.service, r.severity, r.cluster.id));
    this.acks = [];
    this.estimateSamples = [];
    this.history = new Map();
    this.historyMoves = [];
    this.records = { logs: 0, metrics: 0, traces: 0 };
    // Committed rows are in the store now: the cache can let the oldest go.
    this.keys.evict(this.opts.sketchCacheRows);
    this.labels.evict(this.opts.sketchCacheRows);
    // Template rows hold nothing the store lacks (SQL adds counts and keeps the first example), and rows of
    // clusters the canonical miner evicted would otherwise pile up: keep only the recently touched ones.
    this.templates.evict(this.opts.sketchCacheRows);
    return out;
  }

  private seen(r: Seen, d: Seen): void {
    r.firstSeen = minTime(r.firstSeen, d.firstSeen);
    r.lastSeen = maxTime(r.lastSeen, d.lastSeen);
  }
}
