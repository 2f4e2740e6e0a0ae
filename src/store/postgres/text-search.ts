/**
 * The lists' text filter on PostgreSQL: SQLite's `LIKE '%q%'` without ICU (a
 * substring, ASCII letters case-insensitive, nothing else folded) is a LIKE
 * on this expression. Migration 0010 indexes the same expression (pg_trgm),
 * letter for letter, so that the planner can match the index to the filter.
 */
export function foldedAscii(column: string): string {
  return `translate(${column}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`;
}
