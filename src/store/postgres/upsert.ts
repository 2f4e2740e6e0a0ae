/**
 * Batched statements over `unnest`: one round trip per table and step, no
 * parameter limit, rows always in primary-key order so that concurrent
 * writers take their row locks in one order (no deadlock between them).
 */
import type { PoolClient } from './connection.js';

export type ColumnType = 'text' | 'bigint' | 'int' | 'bool' | 'bytea' | 'jsonb';

export interface Column<R> {
  name: string;
  type: ColumnType;
  get: (r: R) => unknown;
}

/** unnest() takes one array per column; jsonb travels as text and is cast in the select list. */
function arrayType(t: ColumnType): string {
  return t === 'jsonb' ? 'text[]' : `${t}[]`;
}

function selectList<R>(cols: Array<Column<R>>): string {
  return cols.map((c) => (c.type === 'jsonb' ? `u.${c.name}::jsonb` : `u.${c.name}`)).join(', ');
}

function unnest<R>(cols: Array<Column<R>>, first = 1): string {
  const args = cols.map((c, i) => `$${first + i}::${arrayType(c.type)}`).join(', ');
  return `unnest(${args}) AS u(${cols.map((c) => c.name).join(', ')})`;
}

function values<R>(cols: Array<Column<R>>, rows: R[]): unknown[][] {
  return cols.map((c) => rows.map((r) => (c.type === 'jsonb' ? JSON.stringify(c.get(r)) : c.get(r))));
}

/** A statement text per distinct shape: built once, then pg sends it as a named prepared statement. */
const texts = new Map<string, string>();
function cached(key: string, build: () => string): string {
  let t = texts.get(key);
  if (t === undefined) {
    t = build();
    texts.set(key, t);
  }
  return t;
}

export interface TableSpec<R> {
  table: string;
  pk: Array<Column<R>>;
}

const orderBy = (pk: Array<{ name: string }>, prefix: string) => pk.map((c) => `${prefix}${c.name}`).join(', ');

/** INSERT … ON CONFLICT DO NOTHING: makes every row exist (so the next step can lock it), changes none. */
export async function ensureRows<R>(client: PoolClient, spec: TableSpec<R>, extra: Array<Column<R>>, rows: R[]): Promise<void> {
  if (rows.length === 0) return;
  const cols = [...spec.pk, ...extra];
  const name = `kt_ensure_${spec.table}`;
  const text = cached(name, () => `INSERT INTO ${spec.table} (${cols.map((c) => c.name).join(', ')})
    SELECT ${selectList(cols)} FROM ${unnest(cols)} ORDER BY ${orderBy(spec.pk, 'u.')} ON CONFLICT DO NOTHING`);
  await client.query({ name, text, values: values(cols, rows) });
}

/**
 * SELECT … FOR UPDATE of the rows' current content, in key order. `fields`
 * is the select list over `t` (the table); `$1` is free for the caller's
 * value, the key arrays follow.
 */
export async function lockRows<R>(client: PoolClient, spec: TableSpec<R>, fields: string, first: unknown, rows: R[], extra: Array<Column<R>> = []): Promise<Array<Record<string, any>>> {
  if (rows.length === 0) return [];
  const cols = [...spec.pk, ...extra];
  const name = `kt_lock_${spec.table}`;
  // `mine`: whether this instance (`$1`) wrote the row last.
  const text = cached(name, () => `SELECT ${spec.pk.map((c) => `t.${c.name}`).join(', ')}, t.writer = $1::text AS mine, ${fields}
    FROM ${spec.table} t JOIN ${unnest(cols, 2)} ON ${spec.pk.map((c) => `t.${c.name} = u.${c.name}`).join(' AND ')}
    ORDER BY ${orderBy(spec.pk, 't.')} FOR UPDATE OF t`);
  const res = await client.query({ name, text, values: [first, ...values(cols, rows)] });
  return res.rows as Array<Record<string, any>>;
}

/** INSERT … ON CONFLICT DO UPDATE SET `set` (which refers to the table by its name and to `excluded`). */
export async function upsertRows<R>(client: PoolClient, spec: TableSpec<R>, cols: Array<Column<R>>, set: string, rows: R[]): Promise<void> {
  if (rows.length === 0) return;
  const all = [...spec.pk, ...cols];
  const name = `kt_upsert_${spec.table}`;
  const text = cached(name, () => `INSERT INTO ${spec.table} (${all.map((c) => c.name).join(', ')})
    SELECT ${selectList(all)} FROM ${unnest(all)} ORDER BY ${orderBy(spec.pk, 'u.')}
    ON CONFLICT (${spec.pk.map((c) => c.name).join(', ')}) DO UPDATE SET ${set}`);
  await client.query({ name, text, values: values(all, rows) });
}

/**
 * upsertRows for the rows this instance wrote last, in one statement: INSERT … ON CONFLICT DO UPDATE SET `set`
 * WHERE the stored `writer` is this one (`cols` carries `writer`), so new rows are inserted and this
 * instance's own rows updated from its mirror, which holds everything they hold. A row another instance
 * wrote since is skipped, but locked all the same (ON CONFLICT DO UPDATE locks the rows its WHERE skips,
 * in the statement's key order): the caller reads and merges those (readRows 'theirs') and writes them with
 * upsertRows. Resolves to the number of rows written.
 */
export async function upsertMine<R>(client: PoolClient, spec: TableSpec<R>, cols: Array<Column<R>>, set: string, rows: R[]): Promise<number> {
  if (rows.length === 0) return 0;
  const all = [...spec.pk, ...cols];
  const name = `kt_upsert_mine_${spec.table}`;
  const text = cached(name, () => `INSERT INTO ${spec.table} (${all.map((c) => c.name).join(', ')})
    SELECT ${selectList(all)} FROM ${unnest(all)} ORDER BY ${orderBy(spec.pk, 'u.')}
    ON CONFLICT (${spec.pk.map((c) => c.name).join(', ')}) DO UPDATE SET ${set} WHERE ${spec.table}.writer = excluded.writer`);
  const res = await client.query({ name, text, values: values(all, rows) });
  return res.rowCount ?? 0;
}

/**
 * The stored content (`fields`, over `t`) of those of `rows` whose `writer` is this instance (`$1`, 'mine': a
 * plain read) or another ('theirs': locked, FOR UPDATE, in key order). One select list per table and side.
 */
export async function readRows<R>(client: PoolClient, spec: TableSpec<R>, which: 'mine' | 'theirs', fields: string, me: string, rows: R[]): Promise<Array<Record<string, any>>> {
  if (rows.length === 0) return [];
  const name = `kt_${which}_${spec.table}`;
  const text = cached(name, () => `SELECT ${spec.pk.map((c) => `t.${c.name}`).join(', ')}, ${fields}
    FROM ${spec.table} t JOIN ${unnest(spec.pk, 2)} ON ${spec.pk.map((c) => `t.${c.name} = u.${c.name}`).join(' AND ')}
    WHERE t.writer ${which === 'mine' ? '=' : '<>'} $1::text ORDER BY ${orderBy(spec.pk, 't.')}${which === 'theirs' ? ' FOR UPDATE OF t' : ''}`);
  const res = await client.query({ name, text, values: [me, ...values(spec.pk, rows)] });
  return res.rows as Array<Record<string, any>>;
}
