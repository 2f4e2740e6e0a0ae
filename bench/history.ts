/**
 * `npm run bench:history`: a generated week of history on SQLite, and how
 * fast the history questions answer on it while ingest runs.
 *
 *   npm run build && npm run bench:history -- [--services 20] [--templates 1000] [--days 7] [--runs 40] [--keep]
 *
 * 1. starts `keytally serve --test-clock on` on a fresh data directory;
 * 2. replays a week: every hour of it, each service sends one request with one
 *    log record of each of its templates (20 services x 1,000 templates:
 *    3,360 requests of 1,000 records), the receive time given by the test clock;
 * 3. keeps ingesting (the last hour again, in a loop) while it asks, --runs
 *    times each: the top 20 templates by bytes over the last 7 days, and one
 *    template's series over the week at a 1-hour step; prints p50/p95;
 * 4. stops the server (SIGTERM: drained, checkpointed) and reports the disk
 *    used: the database file, its history entities and running-total rows.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { encodeProto, kv } from './otlp-reference.js';
import { checkArgs } from './args.js';

checkArgs(`usage: npm run bench:history -- [--services 20] [--templates 1000] [--days 7] [--runs 40] [--keep]
  a generated week of history on SQLite, then the top templates by bytes over 7 days and one template's series, while ingest goes on`, { values: ['services', 'templates', 'days', 'runs'], flags: ['keep'] });

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'keytally.js');
const HOUR = 3_600_000;
const DAY = 86_400_000;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}
const SERVICES = arg('services', 20);
const TEMPLATES = arg('templates', 1000);
const DAYS = arg('days', 7);
const RUNS = arg('runs', 40);
const KEEP = process.argv.includes('--keep');

/** A plain word per template (letters only, so the miner keys its tree by it and never masks it). */
function word(t: number): string {
  let s = '';
  for (let i = 0; i < 3; i++) {
    s += String.fromCharCode(97 + (t % 26));
    t = Math.floor(t / 26);
  }
  return 'op' + s;
}

function body(service: number, hour: number): Uint8Array {
  const logRecords = Array.from({ length: TEMPLATES }, (_, t) => ({
    severityText: 'INFO',
    body: { stringValue: `${word(t)} handled request ${hour * 1000 + t} for user ${(t * 7919 + hour) % 100000} in ${t % 97} ms` },
    attributes: kv({ 'http.route': `/api/${word(t % 50)}`, 'user.id': `u${(t * 31 + hour) % 5000}` }),
  }));
  return encodeProto('logs', { resourceLogs: [{ resource: { attributes: kv({ 'service.name': `svc-${service}`, 'service.version': '1.0.0' }) }, scopeLogs: [{ logRecords }] }] });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'keytally-bench-history-'));
  const proc = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--otlp-http', '127.0.0.1:0', '--api', '127.0.0.1:0', '--log-level', 'warn',
    '--test-clock', 'on', '--miner-max-clusters', String(TEMPLATES * 2), '--ack', 'accepted'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<{ otlp: number; api: number }>((ok, fail) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /keytally listening otlp=(\d+) api=(\d+)/.exec(out);
      if (m) ok({ otlp: Number(m[1]), api: Number(m[2]) });
    });
    proc.once('exit', (c) => fail(new Error(`keytally exited with ${c}`)));
  });
  const otlp = `http://127.0.0.1:${ports.otlp}/v1/logs`;
  const api = `http://127.0.0.1:${ports.api}`;
  const start = Date.UTC(2026, 0, 5);
  const end = start + DAYS * DAY;
  const send = async (b: Uint8Array, at: number) => {
    for (;;) {
      const r = await fetch(otlp, { method: 'POST', body: b, headers: { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(at) } });
      await r.arrayBuffer();
      if (r.status === 200) return;
      if (r.status !== 429 && r.status !== 503) throw new Error(`ingest answered ${r.status}`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
  };

  // Bodies differ per hour only in numbers; a few variants are enough to keep the miner honest and encoding cheap.
  const bodies = Array.from({ length: SERVICES }, (_, s) => Array.from({ length: 4 }, (_, v) => body(s, v)));
  const t0 = performance.now();
  const hours = DAYS * 24;
  for (let h = 0; h < hours; h++) {
    await Promise.all(Array.from({ length: SERVICES }, (_, s) => send(bodies[s]![h % 4]!, start + h * HOUR + 30 * 60_000)));
    if (h % 24 === 23) process.stderr.write(`day ${(h + 1) / 24} of ${DAYS} replayed (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  // Wait until the writer has committed the week (accepted mode commits within ~commitMs).
  const records = SERVICES * TEMPLATES * hours;
  for (;;) {
    const s = (await (await fetch(`${api}/api/v1/services?limit=1000`)).json()) as { items: Array<{ log_records: number }> };
    if (s.items.reduce((a, x) => a + x.log_records, 0) >= records) break;
    await new Promise((ok) => setTimeout(ok, 200));
  }
  const replayS = (performance.now() - t0) / 1000;
  process.stderr.write(`replayed ${records} records in ${replayS.toFixed(1)} s\n`);

  // Ingest keeps running (the last hour, again and again) while the questions are asked.
  let ingesting = true;
  let sentDuring = 0;
  const load = (async () => {
    while (ingesting) {
      await send(bodies[sentDuring % SERVICES]![0]!, end - HOUR + 40 * 60_000);
      sentDuring++;
    }
  })();
  const tpl = ((await (await fetch(`${api}/api/v1/logs/templates?service=svc-3&limit=1&sort=bytes`)).json()) as { items: Array<{ template_id: number }> }).items[0]!;
  const questions = {
    'top 20 templates by bytes, last 7 days': `/api/v1/logs/templates?sort=bytes&limit=20&from=${end - 7 * DAY}&to=${end}`,
    'one template, series at 1 h over 7 days': `/api/v1/series?signal=logs&service=svc-3&severity=INFO&template=${tpl.template_id}&from=${end - 7 * DAY}&to=${end}&step=3600`,
  };
  const results: Record<string, { p50: number; p95: number; max: number }> = {};
  for (const [name, path] of Object.entries(questions)) {
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const q0 = performance.now();
      const r = await fetch(api + path);
      const body = (await r.json()) as { items: unknown[] };
      ms.push(performance.now() - q0);
      if (r.status !== 200 || body.items.length === 0) throw new Error(`${path}: ${r.status}`);
    }
    ms.sort((a, b) => a - b);
    results[name] = { p50: ms[Math.floor(RUNS * 0.5)]!, p95: ms[Math.min(RUNS - 1, Math.ceil(RUNS * 0.95) - 1)]!, max: ms[RUNS - 1]! };
  }
  ingesting = false;
  await load;
  for (const [name, r] of Object.entries(results)) process.stderr.write(`${name}: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms\n`);

  proc.kill('SIGTERM');
  const [code] = await once(proc, 'exit');
  const file = join(dir, 'keytally.db');
  const db = new Database(file, { readonly: true });
  const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const rows = { entities: n(`SELECT count(*) AS n FROM history_entity`), rows: n(`SELECT count(*) AS n FROM history`) };
  db.close();
  const mb = (n: number) => (n / 1048576).toFixed(1);
  console.log(`history bench: ${SERVICES} services x ${TEMPLATES} templates, ${DAYS} days replayed hourly (${records} records, ${replayS.toFixed(0)} s); server exit ${code}`);
  for (const [name, r] of Object.entries(results)) console.log(`  ${name.padEnd(44)} p50 ${r.p50.toFixed(1)} ms  p95 ${r.p95.toFixed(1)} ms  max ${r.max.toFixed(1)} ms  (${RUNS} runs, ${sentDuring} ingest requests meanwhile)`);
  console.log(`  disk: keytally.db ${mb(statSync(file).size)} MB; history: ${rows.entities} entities, ${rows.rows} running-total rows`);
  if (KEEP) console.log(`  kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

await main();
