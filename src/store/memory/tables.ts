/**
 * The memory store's rows: one record per row, in the API's column names (so
 * the shared sort specs of src/store/queries.ts apply unchanged), kept in
 * Maps keyed like the SQL primary keys. One LRU order runs across all tables:
 * a Map in insertion order, where touching a row is delete + set.
 */
import type { KeyScope } from '../../model/delta.js';
import type { HistoryEntityRef } from './history.js';

interface Seen {
  first_seen: number;
  last_seen: number;
}

export interface ServiceRec extends Seen {
  name: string;
  log_records: number;
  spans: number;
  metric_points: number;
  log_bytes: number;
  span_bytes: number;
  metric_bytes: number;
}

export interface MetricRec extends Seen {
  service: string;
  name: string;
  type: string;
  unit: string;
  description: string;
  monotonic: boolean;
  temporality: number;
  label_keys: string[];
  resource_keys: string[];
  sample_count: number;
  bytes: number;
  overflow_points: number;
  bucket_count: number;
  series_estimate: number;
  prometheus_series: number;
  series_sketch: Uint8Array;
}

export interface LabelRec extends Seen {
  service: string;
  metric: string;
  key: string;
  sample_count: number;
  bytes: number;
  cardinality_estimate: number;
  sketch: Uint8Array;
}

export interface SpanRec extends Seen {
  service: string;
  name: string;
  kind: number;
  attribute_keys: string[];
  resource_keys: string[];
  event_names: string[];
  sample_count: number;
  bytes: number;
  status_unset: number;
  status_ok: number;
  status_error: number;
}

export interface LogRec extends Seen {
  service: string;
  severity: string;
  attribute_keys: string[];
  resource_keys: string[];
  body_keys: string[];
  sample_count: number;
  bytes: number;
}

export interface KeyRec extends Seen {
  service: string;
  scope: KeyScope;
  key: string;
  sample_count: number;
  bytes: number;
  cardinality_estimate: number;
  sketch: Uint8Array;
}

export interface TemplateRec extends Seen {
  service: string;
  severity: string;
  template_id: number;
  template: string;
  count: number;
  bytes: number;
  example: string;
}

export interface Records {
  services: ServiceRec;
  metrics: MetricRec;
  labels: LabelRec;
  spans: SpanRec;
  logs: LogRec;
  keys: KeyRec;
  templates: TemplateRec;
}

export type TableName = keyof Records;

export const TABLE_NAMES: readonly TableName[] = ['services', 'metrics', 'labels', 'spans', 'logs', 'keys', 'templates'];

/** One stored row: the LRU's element (a Set of entries in update order needs no key string per touch). */
export interface Entry<T extends TableName = TableName> {
  readonly table: T;
  readonly key: string;
  row: Records[T];
  bytes: number;
  /**
   * The row's history entity, found once by the read side (src/store/memory/read.ts) instead of a key string built
   * and looked up per row and question; `entityMiss`: MemoryHistory.created when none was found (asked again once
   * entities have been created since).
   */
  entity: HistoryEntityRef | undefined;
  entityMiss: number;
  /**
   * The row's first_seen and service, copied here at every put and update: a windowed list filters by them without
   * reading the row (rows lie among their sketches: reading one field of 100,000 key rows took 62 ms, of their
   * entries 6 ms).
   */
  firstSeen: number;
  service: string;
  /** The row's place in its table's tie-break order (src/store/memory/tie-order.ts), numbered by the read side. */
  rank: number;
}

/** Rows added to a table since the read side last asked (tie-order.ts): kept up to this many, past it "renumber all". */
const FRESH_LOG = 65_536;

/** What changed in a table's membership since the read side last asked: the new entries, or (undefined) too many to list; and whether any went. */
export interface Membership<T extends TableName> {
  fresh: Array<Entry<T>> | undefined;
  removed: boolean;
}

const NO_ENTRIES: ReadonlySet<never> = new Set();

/** A rough but monotone size of a row: what eviction counts against the bound. */
const ROW_OVERHEAD = 200;
const ARRAY_ITEM_OVERHEAD = 24;

function estimateBytes(row: object): number {
  let n = ROW_OVERHEAD;
  // for-in over the row's own fields: Object.values() would allocate an array per row and commit.
  for (const k in row) {
    const v = (row as Record<string, unknown>)[k];
    if (typeof v === 'string') n += 2 * v.length;
    else if (v instanceof Uint8Array) n += v.byteLength + 64;
    else if (Array.isArray(v)) for (const s of v as string[]) n += ARRAY_ITEM_OVERHEAD + 2 * s.length;
  }
  return n;
}

export class Tables {
  private readonly maps: { [T in TableName]: Map<string, Entry<T>> } = {
    services: new Map(),
    metrics: new Map(),
    labels: new Map(),
    spans: new Map(),
    logs: new Map(),
    keys: new Map(),
    templates: new Map(),
  };
  /** Every row across the tables, least recently updated first (a Set iterates in insertion order; touch = delete + add). */
  private readonly lru = new Set<Entry>();
  bytes = 0;
  evictions = 0;
  /** One more at every change of a row (put, updated, remove, evict): what a cached answer was computed at (read.ts). */
  version = 0;

  constructor(private readonly maxBytes: number) {}

  get<T extends TableName>(table: T, key: string): Records[T] | undefined {
    return this.maps[table].get(key)?.row;
  }

  /** A row's entry, for a commit that updates the row in place (then calls updated()). */
  entry<T extends TableName>(table: T, key: string): Entry<T> | undefined {
    return this.maps[table].get(key);
  }

  rows<T extends TableName>(table: T): IterableIterator<Records[T]> {
    const it = this.maps[table].values();
    return (function* () {
      for (const e of it) yield e.row;
    })();
  }

  /** A table's entries, in the Map's order (the order rows() and rowArray() give). */
  entries<T extends TableName>(table: T): IterableIterator<Entry<T>> {
    return this.maps[table].values();
  }

  /**
   * One service's entries of a table (those whose Entry.service is it, which never changes while the entry lives:
   * the service is part of every table's key), in no particular order; empty when none.
   */
  serviceEntries<T extends TableName>(table: T, service: string): ReadonlySet<Entry<T>> {
    return (this.byService[table].get(service) as Set<Entry<T>> | undefined) ?? NO_ENTRIES;
  }

  /** How many rows of `table` are `service`'s. */
  serviceCount(table: TableName, service: string): number {
    return this.byService[table].get(service)?.size ?? 0;
  }

  /**
   * Per table, its entries by service: a service's page (its overview: counts and top lists) reads its own rows,
   * not every entry of the table (100,000 keys, each entry's service read to find a service's 5,000: 15–22 ms a
   * list in the server, where the entries lie among their rows' sketches).
   */
  private readonly byService: { [T in TableName]: Map<string, Set<Entry<T>>> } = {
    services: new Map(), metrics: new Map(), labels: new Map(), spans: new Map(), logs: new Map(), keys: new Map(), templates: new Map(),
  };

  private grouped<T extends TableName>(e: Entry<T>): void {
    const m = this.byService[e.table] as Map<string, Set<Entry<T>>>;
    let set = m.get(e.service);
    if (!set) m.set(e.service, (set = new Set()));
    set.add(e);
  }

  private ungrouped(e: Entry): void {
    const m = this.byService[e.table] as Map<string, Set<Entry>>;
    const set = m.get(e.service);
    if (!set) return;
    set.delete(e);
    if (set.size === 0) m.delete(e.service);
  }

  /** A table's rows as a new array (no generator step per row: the API's questions walk whole tables). */
  rowArray<T extends TableName>(table: T): Array<Records[T]> {
    const out = new Array<Records[T]>(this.maps[table].size);
    let i = 0;
    for (const e of this.maps[table].values()) out[i++] = e.row;
    return out;
  }

  count(table: TableName): number {
    return this.maps[table].size;
  }

  /** Stores `row` (new, or replacing the row under `key`) as the most recently updated. */
  /**
   * Per table, no row's first_seen is above this (rows only lower theirs afterwards: seenRange), so "first seen
   * since T" past it is known empty without a walk (/changes on a steady store: 100,000 keys, none new).
   */
  private readonly newestFirstSeen = new Map<TableName, number>();

  /** Whether some row of `table` may have first_seen >= t. */
  mayHaveFirstSeenFrom(table: TableName, t: number): boolean {
    return (this.newestFirstSeen.get(table) ?? -Infinity) >= t;
  }

  put<T extends TableName>(table: T, key: string, row: Records[T]): void {
    const seen = (row as { first_seen?: number }).first_seen;
    this.version++;
    if (seen !== undefined && seen > (this.newestFirstSeen.get(table) ?? -Infinity)) this.newestFirstSeen.set(table, seen);
    const e = this.maps[table].get(key);
    if (e) {
      e.row = row;
      this.updated(e);
      return;
    }
    const fresh: Entry<T> = {
      table, key, row, bytes: estimateBytes(row), entity: undefined, entityMiss: -1,
      firstSeen: seen ?? 0, service: (row as { service?: string }).service ?? '', rank: -1,
    };
    this.maps[table].set(key, fresh);
    this.joined(fresh);
    this.grouped(fresh);
    this.bytes += fresh.bytes;
    this.lru.add(fresh as unknown as Entry);
  }

  /**
   * After a commit changed `e.row` in place: its size again, and it becomes the most recently updated.
   * In place, because a record replaced at every commit outlives a young-generation GC or two and dies old.
   * Measured over 8 s of `npm run bench -- --store memory` (/proc/PID/task/TID/stat): V8's GC helper threads took
   * 157 ticks with a new record per commit, 107 in place (SQLite's run: 80); the writer thread 112, then 77.
   */
  updated(e: Entry<TableName>): void {
    this.version++;
    const seen = (e.row as { first_seen?: number }).first_seen ?? 0;
    if (seen !== e.firstSeen) this.seenMoves[e.table]++;
    e.firstSeen = seen;
    const size = estimateBytes(e.row);
    this.bytes += size - e.bytes;
    e.bytes = size;
    this.lru.delete(e);
    this.lru.add(e);
  }

  /** Deletes one row (a template the canonical miner merged into another). */
  remove(table: TableName, key: string): void {
    const e = this.maps[table].get(key);
    if (!e) return;
    this.version++;
    this.maps[table].delete(key);
    this.lru.delete(e as Entry);
    this.ungrouped(e as Entry);
    this.bytes -= e.bytes;
    this.changes[table].removed = true;
  }

  /**
   * Per table, one more at every change of a live entry's first_seen (a record older than the row's first): what a
   * reader's copy of the entries' first_seen (src/store/memory/entry-columns.ts, EntryColumns) was made at.
   */
  readonly seenMoves: { [T in TableName]: number } = { services: 0, metrics: 0, labels: 0, spans: 0, logs: 0, keys: 0, templates: 0 };

  /** Per table, the membership changes the read side has not taken yet. */
  private readonly changes: { [T in TableName]: Membership<T> } = {
    services: { fresh: [], removed: false }, metrics: { fresh: [], removed: false }, labels: { fresh: [], removed: false },
    spans: { fresh: [], removed: false }, logs: { fresh: [], removed: false }, keys: { fresh: [], removed: false }, templates: { fresh: [], removed: false },
  };

  private joined<T extends TableName>(e: Entry<T>): void {
    const c = this.changes[e.table] as unknown as Membership<T>;
    if (c.fresh && c.fresh.length < FRESH_LOG) c.fresh.push(e);
    else c.fresh = undefined;
  }

  /** The membership changes of `table` since the last call (and none after it). */
  takeMembership<T extends TableName>(table: T): Membership<T> {
    const c = this.changes[table];
    this.changes[table] = { fresh: [], removed: false } as unknown as (typeof this.changes)[T];
    return c as unknown as Membership<T>;
  }

  /** Drops the least recently updated rows until the estimate (plus `reserved` bytes held elsewhere) is within the bound; returns how many. */
  evict(reserved = 0): number {
    let n = 0;
    for (const e of this.lru) {
      if (this.bytes + reserved <= this.maxBytes) break;
      this.lru.delete(e);
      this.maps[e.table].delete(e.key);
      this.ungrouped(e);
      this.bytes -= e.bytes;
      this.changes[e.table].removed = true;
      this.version++;
      n++;
    }
    this.evictions += n;
    return n;
  }
}
