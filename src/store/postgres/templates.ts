/**
 * Template rows shared by a fleet: the writer's template log (adds and moves,
 * in the order its canonical miner made them, see src/writer/template-log.ts)
 * replayed in one transaction.
 *
 * Rows are keyed by a hash of (service, severity, template text), which every
 * instance computes the same way. An add adds the instance's freshly mined
 * lines. A move takes its amount from the stored row in the same statement
 * (the whole row for a merge or a generalisation: every instance's lines of a
 * template that joined another belong to that other; at most the split word's
 * lines for a split), so whatever other instances committed in between, no
 * line is counted twice or lost: per (service, severity) the stored counts
 * add up to exactly the lines committed.
 *
 * Locks: a log with moves first locks every existing row it touches, in key
 * order (as every other table's upsert takes its locks), so the moves that
 * follow wait on nothing; a deadlock on rows two instances create at once is
 * retried by the commit (40P01).
 */
import { createHash } from 'node:crypto';
import type { TemplateAdd, TemplateOp } from '../../writer/template-log.js';
import type { PoolClient } from './connection.js';
import { upsertRows, type TableSpec } from './upsert.js';

export function templateHash(service: string, severity: string, template: string): string {
  return createHash('sha256').update(`${service}\u0000${severity}\u0000${template}`).digest('base64url').slice(0, 22);
}

interface Keyed {
  service: string;
  severity: string;
  hash: string;
}

const TEMPLATES: TableSpec<TemplateAdd & { hash: string }> = {
  table: 'body_templates',
  pk: [
    { name: 'service', type: 'text', get: (w) => w.service },
    { name: 'severity', type: 'text', get: (w) => w.severity },
    { name: 'template_hash', type: 'text', get: (w) => w.hash },
  ],
};

const SEEN = `first_seen = LEAST(body_templates.first_seen, excluded.first_seen), last_seen = GREATEST(body_templates.last_seen, excluded.last_seen)`;

/** Adds of one segment (no move between them): one upsert, rows in key order. */
async function addAll(client: PoolClient, adds: Array<TemplateAdd & { hash: string }>): Promise<void> {
  await upsertRows(client, TEMPLATES, [
    { name: 'template_id', type: 'int', get: (w) => w.id },
    { name: 'template', type: 'text', get: (w) => w.template },
    { name: 'count', type: 'bigint', get: (w) => w.count },
    { name: 'bytes', type: 'bigint', get: (w) => w.bytes },
    { name: 'example', type: 'text', get: (w) => w.example },
    { name: 'first_seen', type: 'bigint', get: (w) => w.firstSeen },
    { name: 'last_seen', type: 'bigint', get: (w) => w.lastSeen },
  ], `count = body_templates.count + excluded.count, bytes = body_templates.bytes + excluded.bytes,
    updated = nextval('body_templates_updated_seq'), ${SEEN}`, adds);
}

/** Locks the existing rows of `keys`, in the order of the upserts (unnest's text, as upsertRows sorts). */
async function lock(client: PoolClient, keys: Keyed[]): Promise<void> {
  await client.query(
    `SELECT 1 FROM body_templates t JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(service, severity, template_hash)
       ON t.service = u.service AND t.severity = u.severity AND t.template_hash = u.template_hash
     ORDER BY u.service, u.severity, u.template_hash FOR UPDATE OF t`,
    [keys.map((k) => k.service), keys.map((k) => k.severity), keys.map((k) => k.hash)],
  );
}

/** Moves `count`/`bytes` (all of the row when null) from one stored row to another; both rows are locked already. */
async function move(client: PoolClient, service: string, severity: string, from: string, to: string, toText: string, toId: number, count: number | null, bytes: number | null): Promise<void> {
  const moved = count === null
    ? `WITH m AS (DELETE FROM body_templates WHERE service = $1 AND severity = $2 AND template_hash = $3 RETURNING count, bytes, example, first_seen, last_seen)`
    : `WITH m AS (UPDATE body_templates t SET count = t.count - LEAST(t.count, $7::bigint), bytes = t.bytes - LEAST(t.bytes, $8::bigint),
         updated = nextval('body_templates_updated_seq')
         FROM (SELECT count AS c0, bytes AS b0 FROM body_templates WHERE service = $1 AND severity = $2 AND template_hash = $3) o
         WHERE t.service = $1 AND t.severity = $2 AND t.template_hash = $3
         RETURNING LEAST(o.c0, $7::bigint) AS count, LEAST(o.b0, $8::bigint) AS bytes, t.example, t.first_seen, t.last_seen)`;
  await client.query(
    `${moved}
     INSERT INTO body_templates (service, severity, template_hash, template_id, template, count, bytes, example, first_seen, last_seen)
     SELECT $1, $2, $4, $5, $6, count, bytes, example, first_seen, last_seen FROM m WHERE count > 0 OR bytes > 0
     ON CONFLICT (service, severity, template_hash) DO UPDATE SET count = body_templates.count + excluded.count,
       bytes = body_templates.bytes + excluded.bytes, updated = nextval('body_templates_updated_seq'), ${SEEN}`,
    count === null ? [service, severity, from, to, toId, toText] : [service, severity, from, to, toId, toText, count, bytes ?? 0],
  );
}

/** Replays a template log; returns the hashes it wrote under (for the instance's poll to skip). */
export async function writeTemplateOps(client: PoolClient, ops: TemplateOp[]): Promise<string[]> {
  if (ops.length === 0) return [];
  const hashes: string[] = [];
  const touched = new Map<string, Keyed>();
  const key = (service: string, severity: string, text: string): string => {
    const hash = templateHash(service, severity, text);
    touched.set(`${service}\u0000${severity}\u0000${hash}`, { service, severity, hash });
    return hash;
  };
  // Keys first (hashing once), so the locks can be taken before the first statement that moves anything.
  const keyed = ops.map((op) => (op.op === 'add' ? { op, hash: key(op.service, op.severity, op.template) } : { op, from: key(op.service, op.severity, op.from), to: key(op.service, op.severity, op.to) }));
  const moves = ops.some((o) => o.op === 'move');
  if (moves) await lock(client, [...touched.values()]);
  let adds: Array<TemplateAdd & { hash: string }> = [];
  for (const k of keyed) {
    if (k.op.op === 'add') {
      adds.push({ ...k.op, hash: (k as { hash: string }).hash });
      hashes.push((k as { hash: string }).hash);
      continue;
    }
    if (adds.length > 0) await addAll(client, adds);
    adds = [];
    const m = k.op;
    const { from, to } = k as { from: string; to: string };
    await move(client, m.service, m.severity, from, to, m.to, m.toId, m.count, m.bytes);
    hashes.push(to);
  }
  if (adds.length > 0) await addAll(client, adds);
  if (moves) {
    // A split that took a row's last line leaves it at 0: a template with no lines is no row.
    const keys = [...touched.values()];
    await client.query(
      `DELETE FROM body_templates t USING unnest($1::text[], $2::text[], $3::text[]) AS u(service, severity, template_hash)
        WHERE t.service = u.service AND t.severity = u.severity AND t.template_hash = u.template_hash AND t.count <= 0 AND t.bytes <= 0`,
      [keys.map((x) => x.service), keys.map((x) => x.severity), keys.map((x) => x.hash)],
    );
  }
  return hashes;
}
