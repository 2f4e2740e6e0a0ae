/**
 * `keytally report` as a gate and as a document: a misspelt service or --top 0 is bad usage
 * (exit 2), "top metrics by series" means Prometheus series (what --max-series checks), and the
 * markdown renders (GitHub-flavoured, Debian's cmark-gfm) to exactly the text of every cell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrateSqlite } from '../../src/store/sqlite/migrations.js';
import { dbPath } from '../../src/store/sqlite/connection.js';
import { BIN, ROOT, tempDir } from '../helpers/server.js';

const TRICKY_TEMPLATE = 'user <NUM> from <IP> | *bold* _it_ `code` [a](b) &amp; ~~gone~~ $x$ back\\slash <*>';
const TRICKY_KEY = 'a|b<c>';
let dir: string;
let file: string;

beforeAll(async () => {
  dir = tempDir('keytally-report-gate-');
  file = dbPath(dir);
  await migrateSqlite(file);
  const w = new Database(file);
  w.prepare(`INSERT INTO services (name, log_records, spans, metric_points, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)`).run('shop', 10, 0, 400, 1000, 2000);
  const metric = w.prepare(`INSERT INTO metrics_metadata (service, name, type, unit, description, monotonic, temporality,
    label_keys, resource_keys, sample_count, bucket_count, series_estimate, prometheus_series, series_sketch, first_seen, last_seen)
    VALUES (?, ?, ?, '', '', 0, 0, '[]', '[]', 100, ?, ?, ?, NULL, 1000, 2000)`);
  // Few series, many buckets: first by what Prometheus stores, last by label sets.
  metric.run('shop', 'latency', 'histogram', 20, 10, 220);
  metric.run('shop', 'requests', 'sum', 0, 100, 100);
  w.prepare(`INSERT INTO body_templates (service, severity, template_id, template, count, example, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run('shop', 'INFO', 1, TRICKY_TEMPLATE, 10, 'x', 1000, 2000);
  w.prepare(`INSERT INTO key_metadata (service, scope, key, sample_count, cardinality_estimate, sketch, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)`).run('shop', 'log', TRICKY_KEY, 10, 7, 1000, 2000);
  w.prepare(`INSERT INTO logs_metadata (service, severity, attribute_keys, resource_keys, body_keys, sample_count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run('shop', 'INFO', '[]', '[]', '[]', 10, 1000, 2000);
  w.close();
  try {
    execFileSync(join(ROOT, 'scripts', 'cmark-gfm.sh'), ['install'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new Error(`cannot install cmark-gfm (scripts/cmark-gfm.sh install): ${(err as { stderr?: Buffer }).stderr?.toString() ?? err}`);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const report = (...args: string[]) => spawnSync(process.execPath, [BIN, 'report', '--store-url', `sqlite:${file}`, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });

const decode = (html: string) => html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

describe('keytally report as a gate', () => {
  it('--service with a name the store does not have exits 2 naming it (it passed with empty tables)', () => {
    const r = report('--service', 'shpo', '--max-series', '1000');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no service "shpo"/);
    expect(report('--service', 'shop').status).toBe(0);
  });

  it('--top 0 is bad usage (it printed one row)', () => {
    const r = report('--top', '0');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--top must be between 1 and 10000/);
  });

  it('--data and --store-url together are refused, not one silently winning', () => {
    const r = report('--data', dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--data and --store-url/);
  });

  it('ranks "top metrics by series" by prometheus_series, the measure --max-series checks', () => {
    const j = JSON.parse(report('--format', 'json').stdout);
    expect(j.metrics.map((m: { name: string }) => m.name)).toEqual(['latency', 'requests']);
    expect(report('--format', 'markdown').stdout).toMatch(/## Top metrics by Prometheus series/);
  });
});

describe('keytally report --format markdown, rendered', () => {
  it('every cell renders as its text: no raw HTML lost, no emphasis, links or broken cells', () => {
    const md = report('--format', 'markdown').stdout;
    const html = execFileSync('cmark-gfm', ['-e', 'table'], { input: md, encoding: 'utf8' });
    expect(html).not.toContain('raw HTML omitted');
    const cells = [...html.matchAll(/<td>(.*?)<\/td>/gs)].map((m) => m[1]!);
    for (const c of cells) expect(c, c).not.toMatch(/<[a-z]/i);
    const text = cells.map(decode);
    expect(text).toContain(TRICKY_TEMPLATE);
    expect(text).toContain(TRICKY_KEY);
    // Every row has as many cells as its header.
    for (const t of html.matchAll(/<table>(.*?)<\/table>/gs)) {
      const head = (t[1]!.match(/<th>/g) ?? []).length;
      for (const row of t[1]!.split('<tr>').slice(2)) expect((row.match(/<td>/g) ?? []).length).toBe(head);
    }
  });
});
