/**
 * `history_last` on PostgreSQL's entity tables, as on SQLite's
 * (src/store/sqlite/history-last.ts): the newest minute bucket in which the
 * row's history entity has a running-total row (-1: none). A windowed list
 * asks "was this row active in [from, to)?" of the row itself
 * (`history_last >= from`, for a window that ends after every row's newest
 * minute) instead of two running-total lookups per row for every row of the
 * table: on 100,000 keys a windowed count was 0.9 s, a page by cardinality 2 s.
 *
 * The history writer keeps it (PostgresHistoryWriter): it raises the column
 * once per entity and minute, with `history_last < bucket` in the statement,
 * so instances of a fleet raising one row in either order leave the larger;
 * template moves, which rewrite an entity's rows, set it from the rows left.
 */
import { HISTORY_SENTINEL, type HistoryEntity, type HistoryKind } from '../history.js';
import type { PoolClient } from './connection.js';

interface KindTable {
  table: string;
  /** The row of entity `d` (an unnest of service, name, sub) in table `t`. */
  match: string;
  /** The entity's name and sub in terms of the table's row `a`: the join to history_entity. */
  name: (a: string) => string;
  sub: (a: string) => string;
}

export const PG_KIND_TABLES: Record<HistoryKind, KindTable> = {
  log: { table: 'logs_metadata', match: 't.service = d.service AND t.severity = d.name', name: (a) => `${a}.severity`, sub: () => `''` },
  // A template's history is keyed by the hash of its text, as its row (src/store/postgres/write.ts).
  template: { table: 'body_templates', match: 't.service = d.service AND t.severity = d.name AND t.template_hash = d.sub', name: (a) => `${a}.severity`, sub: (a) => `${a}.template_hash` },
  metric: { table: 'metrics_metadata', match: 't.service = d.service AND t.name = d.name', name: (a) => `${a}.name`, sub: () => `''` },
  span: { table: 'spans_metadata', match: 't.service = d.service AND t.name = d.name AND t.kind::text = d.sub', name: (a) => `${a}.name`, sub: (a) => `${a}.kind::text` },
  key: { table: 'key_metadata', match: 't.service = d.service AND t.scope = d.name AND t.key = d.sub', name: (a) => `${a}.scope`, sub: (a) => `${a}.key` },
};

/** The join of table row `a` to its history entity `h`. */
export function entityJoin(kind: HistoryKind, a: string): string {
  const k = PG_KIND_TABLES[kind];
  return `h.kind = '${kind}' AND h.service = ${a}.service AND h.name = ${k.name(a)} AND h.sub = ${k.sub(a)}`;
}

/** Migration 0009 (PostgreSQL): the column, filled from the history there is, and its index; the list pages' indexes. */
export function historyLastSql(): string[] {
  return (Object.keys(PG_KIND_TABLES) as HistoryKind[]).flatMap((kind) => {
    const k = PG_KIND_TABLES[kind];
    return [
      `ALTER TABLE ${k.table} ADD COLUMN history_last BIGINT NOT NULL DEFAULT -1`,
      `UPDATE ${k.table} e SET history_last = m.last FROM (
         SELECT h.service, h.name, h.sub, MAX(x.bucket) AS last FROM history_entity h JOIN history x ON x.id = h.id
         WHERE h.kind = '${kind}' AND x.bucket < ${HISTORY_SENTINEL} GROUP BY 1, 2, 3) m
       WHERE m.service = e.service AND m.name = ${k.name('e')} AND m.sub = ${k.sub('e')}`,
      // With first_seen: what is new in a window (/changes) is a range of the index.
      `CREATE INDEX ${k.table}_history_last ON ${k.table} (history_last, first_seen)`,
    ];
  }).concat([
    // The pages the UI asks most, in the order of an index, as SQLite's 0003 has them: a page reads its rows and stops
    // (100,000 keys of one cardinality all tie on the first column: without the tiebreak in the index, every one is
    // read and sorted). Only columns a commit never changes, or already indexed (cardinality), so updates stay HOT.
    `CREATE INDEX key_metadata_cardinality_desc ON key_metadata (cardinality_estimate DESC, service, scope, key)`,
    `DROP INDEX key_metadata_cardinality`,
    `CREATE INDEX key_metadata_first_seen_desc ON key_metadata (first_seen DESC, service, scope, key)`,
    `CREATE INDEX key_metadata_key ON key_metadata (key, service, scope)`,
    `CREATE INDEX body_templates_first_seen_desc ON body_templates (first_seen DESC, service, severity, template_id)`,
  ]);
}

/**
 * Raises (`set` false) or sets the column of each entity to its bucket, one
 * statement per kind. `rows` hold each entity once.
 */
export async function writeHistoryLast(c: PoolClient, rows: ReadonlyArray<{ e: HistoryEntity; bucket: number }>, set: boolean): Promise<void> {
  const byKind = new Map<HistoryKind, Array<{ e: HistoryEntity; bucket: number }>>();
  for (const r of rows) {
    let list = byKind.get(r.e.kind);
    if (!list) byKind.set(r.e.kind, (list = []));
    list.push(r);
  }
  for (const [kind, list] of byKind) {
    const k = PG_KIND_TABLES[kind];
    // In key order, as every statement of a commit that locks rows (src/store/postgres/upsert.ts).
    list.sort((a, b) => cmp(a.e.service, b.e.service) || cmp(a.e.name, b.e.name) || cmp(a.e.sub, b.e.sub));
    await c.query({
      name: `kt_history_last_${set ? 'set' : 'raise'}_${kind}`,
      text: `UPDATE ${k.table} t SET history_last = d.bucket
        FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS d(service, name, sub, bucket)
        WHERE ${k.match}${set ? '' : ' AND t.history_last < d.bucket'}`,
      values: [list.map((r) => r.e.service), list.map((r) => r.e.name), list.map((r) => r.e.sub), list.map((r) => r.bucket)],
    });
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
