/**
 * Template rows shared by a fleet: the writer's template log (adds and moves,
 * in the order its canonical miner made them, see src/writer/template-log.ts)
 * applied in one transaction.
 *
 * Rows are keyed by a hash of (service, severity, template text), which every
 * instance computes the same way. An add adds the instance's freshly mined
 * lines. A move takes its amount from the stored row (the whole row for a
 * merge or a generalisation: every instance's lines of a template that joined
 * another belong to that other; at most the split word's lines for a split).
 *
 * Three statements whatever the log's length (a busy fleet's commit carries
 * hundreds of moves; one statement each took seconds): lock and read every
 * existing row the log touches (key order, only when it has moves), replay the
 * log on those rows in code, then add each row's net change in one upsert
 * (`count = t.count + excluded.count`) and delete the rows it emptied. A row
 * locked and read is exact; a row that did not exist yet is replayed from 0,
 * so lines another instance inserts under it meanwhile are only ever added to.
 * Hence no line is counted twice or lost: per (service, severity) the stored
 * counts add up to exactly the lines committed.
 */
import { createHash } from 'node:crypto';
import type { TemplateOp } from '../../writer/template-log.js';
import type { PoolClient } from './connection.js';
import { upsertRows, type TableSpec } from './upsert.js';

export function templateHash(service: string, severity: string, template: string): string {
  return createHash('sha256').update(`${service}\u0000${severity}\u0000${template}`).digest('base64url').slice(0, 22);
}

/** One row as the replay sees it: what it holds (stored + replayed) and its net change in this commit. */
interface Sim {
  service: string;
  severity: string;
  hash: string;
  template: string;
  id: number;
  have: number;
  haveBytes: number;
  count: number;
  bytes: number;
  example: string;
  firstSeen: number;
  lastSeen: number;
}

const TEMPLATES: TableSpec<Sim> = {
  table: 'body_templates',
  pk: [
    { name: 'service', type: 'text', get: (w) => w.service },
    { name: 'severity', type: 'text', get: (w) => w.severity },
    { name: 'template_hash', type: 'text', get: (w) => w.hash },
  ],
};

const SEEN = `first_seen = LEAST(body_templates.first_seen, excluded.first_seen), last_seen = GREATEST(body_templates.last_seen, excluded.last_seen)`;

const keyOf = (service: string, severity: string, hash: string) => `${service}\u0000${severity}\u0000${hash}`;

/** Locks the existing rows, in the order of the upserts (unnest's text, as upsertRows sorts), and reads what they hold. */
async function lockAndRead(client: PoolClient, rows: Sim[]): Promise<Array<Record<string, any>>> {
  const r = await client.query(
    `SELECT t.service, t.severity, t.template_hash, t.count, t.bytes, t.example, t.first_seen, t.last_seen
       FROM body_templates t JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(service, severity, template_hash)
         ON t.service = u.service AND t.severity = u.severity AND t.template_hash = u.template_hash
      ORDER BY u.service, u.severity, u.template_hash FOR UPDATE OF t`,
    [rows.map((k) => k.service), rows.map((k) => k.severity), rows.map((k) => k.hash)],
  );
  return r.rows as Array<Record<string, any>>;
}

/** Applies a template log; returns the hashes it wrote under (for the instance's poll to skip). */
export async function writeTemplateOps(client: PoolClient, ops: TemplateOp[]): Promise<string[]> {
  if (ops.length === 0) return [];
  const sims = new Map<string, Sim>();
  const sim = (service: string, severity: string, template: string, id: number, seen: { firstSeen: number; lastSeen: number }): Sim => {
    const hash = templateHash(service, severity, template);
    const k = keyOf(service, severity, hash);
    let s = sims.get(k);
    if (!s) {
      s = { service, severity, hash, template, id, have: 0, haveBytes: 0, count: 0, bytes: 0, example: '', firstSeen: seen.firstSeen, lastSeen: seen.lastSeen };
      sims.set(k, s);
    }
    return s;
  };
  // Every row the log names, first (hashing once), so that its stored content can be read before the replay.
  const steps = ops.map((op) =>
    op.op === 'add'
      ? { op, to: sim(op.service, op.severity, op.template, op.id, op), from: undefined }
      : { op, from: sim(op.service, op.severity, op.from, op.toId, { firstSeen: Infinity, lastSeen: -Infinity }), to: sim(op.service, op.severity, op.to, op.toId, { firstSeen: Infinity, lastSeen: -Infinity }) },
  );
  const moves = ops.some((o) => o.op === 'move');
  if (moves) {
    for (const r of await lockAndRead(client, [...sims.values()])) {
      const s = sims.get(keyOf(r.service, r.severity, r.template_hash))!;
      s.have = Number(r.count);
      s.haveBytes = Number(r.bytes);
      s.example = r.example;
      s.firstSeen = Math.min(s.firstSeen, Number(r.first_seen));
      s.lastSeen = Math.max(s.lastSeen, Number(r.last_seen));
    }
  }
  for (const { op, from, to } of steps) {
    if (op.op === 'add') {
      to.have += op.count;
      to.haveBytes += op.bytes;
      to.count += op.count;
      to.bytes += op.bytes;
      to.firstSeen = Math.min(to.firstSeen, op.firstSeen);
      to.lastSeen = Math.max(to.lastSeen, op.lastSeen);
      if (to.example === '') to.example = op.example;
      continue;
    }
    const n = op.count === null ? from!.have : Math.min(op.count, from!.have);
    const b = op.bytes === null ? from!.haveBytes : Math.min(op.bytes, from!.haveBytes);
    if (n === 0 && b === 0) continue;
    from!.have -= n;
    from!.haveBytes -= b;
    from!.count -= n;
    from!.bytes -= b;
    to.have += n;
    to.haveBytes += b;
    to.count += n;
    to.bytes += b;
    to.firstSeen = Math.min(to.firstSeen, from!.firstSeen);
    to.lastSeen = Math.max(to.lastSeen, from!.lastSeen);
    if (to.example === '') to.example = op.example || from!.example;
  }
  const changed = [...sims.values()].filter((s) => s.count !== 0 || s.bytes !== 0);
  await upsertRows(client, TEMPLATES, [
    { name: 'template_id', type: 'int', get: (w) => w.id },
    { name: 'template', type: 'text', get: (w) => w.template },
    { name: 'count', type: 'bigint', get: (w) => w.count },
    { name: 'bytes', type: 'bigint', get: (w) => w.bytes },
    { name: 'example', type: 'text', get: (w) => w.example },
    // A row only moved out of was read, so its times are finite; the times of a row no line reached are not written.
    { name: 'first_seen', type: 'bigint', get: (w) => (Number.isFinite(w.firstSeen) ? w.firstSeen : 0) },
    { name: 'last_seen', type: 'bigint', get: (w) => (Number.isFinite(w.lastSeen) ? w.lastSeen : 0) },
  ], `count = body_templates.count + excluded.count, bytes = body_templates.bytes + excluded.bytes,
    updated = nextval('body_templates_updated_seq'), ${SEEN}`, changed);
  if (moves) {
    // Rows the log emptied (merged away, split to nothing): a template with no lines is no row.
    const emptied = [...sims.values()].filter((s) => s.have <= 0 && s.haveBytes <= 0 && (s.count < 0 || s.bytes < 0));
    if (emptied.length > 0) {
      await client.query(
        `DELETE FROM body_templates t USING unnest($1::text[], $2::text[], $3::text[]) AS u(service, severity, template_hash)
          WHERE t.service = u.service AND t.severity = u.severity AND t.template_hash = u.template_hash AND t.count <= 0 AND t.bytes <= 0`,
        [emptied.map((x) => x.service), emptied.map((x) => x.severity), emptied.map((x) => x.hash)],
      );
    }
  }
  return changed.filter((s) => s.count > 0).map((s) => s.hash);
}
