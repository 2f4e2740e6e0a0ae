/**
 * History on every backend, with the test clock: a week is replayed in
 * seconds (each request says when it was received) and the windows, series,
 * retention and changes are checked against what the test sent — counts and
 * protobuf bytes it computed itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogsReq, encode, protoSize } from '../helpers/otlp-fixtures.js';
import { spawnSync } from 'node:child_process';
import { BIN, ROOT, post, startKeytally, waitFor, type Keytally } from '../helpers/server.js';
import { freshDatabase } from '../helpers/postgres.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Monday 2026-01-05 00:00 UTC. */
const T0 = Date.UTC(2026, 0, 5);

const str = (key: string, v: string) => ({ key, value: { stringValue: v } });

/** One request: `a` lines of template A, `b` of B, `c` of C (C appears only from day 5, with version 1.1). */
function request(service: string, version: string, a: number, b: number, c: number) {
  const rec = (body: string, i: number) => ({ severityText: 'INFO', body: { stringValue: body }, attributes: [str('user.id', 'u' + i)] });
  const logRecords = [
    ...Array.from({ length: a }, (_, i) => rec(`user ${i * 7 + 1} logged in`, i)),
    ...Array.from({ length: b }, (_, i) => rec(`disk sd${i % 3} is ${i + 10}% full`, i)),
    ...Array.from({ length: c }, (_, i) => rec(`cache miss for key k${i * 13}`, i)),
  ];
  return { resourceLogs: [{ resource: { attributes: [str('service.name', service), str('service.version', version)] }, scopeLogs: [{ logRecords }] }] };
}

/** Protobuf bytes per template of one request, computed with protobufjs. */
function sizes(obj: ReturnType<typeof request>) {
  const out = { A: 0, B: 0, C: 0 };
  for (const lr of LogsReq.decode(encode(LogsReq, obj)).resourceLogs[0].scopeLogs[0].logRecords) {
    const t = lr.body.stringValue.startsWith('user') ? 'A' : lr.body.stringValue.startsWith('disk') ? 'B' : 'C';
    out[t] += protoSize('logRecord', lr);
  }
  return out;
}

interface Sent {
  at: number;
  a: number;
  b: number;
  c: number;
  bytes: { A: number; B: number; C: number };
}

/** Every hour of the week at minute 30: A grows with the day, B halves from day 5 on, C starts on day 5. */
function plan(): Sent[] {
  const out: Sent[] = [];
  for (let d = 0; d < 7; d++) {
    for (let h = 0; h < 24; h++) {
      const a = 2 + (d % 3);
      const b = d >= 5 ? 2 : 4;
      const c = d >= 5 ? 3 : 0;
      out.push({ at: T0 + d * DAY + h * HOUR + 30 * MIN, a, b, c, bytes: sizes(request('x', d >= 5 ? '1.1' : '1.0', a, b, c)) });
    }
  }
  // The last hour also gets a record every minute from 23:00 to 23:59 of day 6 (minute detail).
  for (let m = 0; m < 60; m++) {
    out.push({ at: T0 + 6 * DAY + 23 * HOUR + m * MIN + 5_000, a: 1, b: 0, c: 0, bytes: sizes(request('x', '1.1', 1, 0, 0)) });
  }
  return out;
}

const SENT = plan();
const END = T0 + 7 * DAY;

function sum(from: number, to: number, f: (s: Sent) => number): number {
  return SENT.filter((s) => s.at >= from && s.at < to).reduce((x, s) => x + f(s), 0);
}
const countAll = (s: Sent) => s.a + s.b + s.c;
const bytesAll = (s: Sent) => s.bytes.A + s.bytes.B + s.bytes.C;

async function replay(k: Keytally, service: string): Promise<void> {
  for (const s of SENT) {
    const body = encode(LogsReq, request(service, s.at >= T0 + 5 * DAY ? '1.1' : '1.0', s.a, s.b, s.c));
    const r = await post(k, '/v1/logs', body, { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(s.at) });
    expect(r.status).toBe(200);
  }
}

const BACKENDS: Array<{ name: string; args: () => Promise<string[]> }> = [
  { name: 'sqlite', args: async () => [] },
  { name: 'memory', args: async () => ['--store', 'memory'] },
  { name: 'postgres', args: async () => ['--store', 'postgres', '--postgres-url', await freshDatabase('kt_history')] },
];

for (const backend of BACKENDS) {
  describe(`history on ${backend.name}`, () => {
    let k: Keytally;
    const svc = 'hist';
    const q = (path: string) => k.get(path).then((r) => {
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    });

    let args: string[] = [];
    beforeAll(async () => {
      // Minute detail for 2 hours, hour detail for 2 days: the replayed week crosses both.
      args = ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--workers', '2', '--test-clock', 'on',
        '--retention-minutes', '120', '--retention-hours', '48', ...(await backend.args())];
      k = await startKeytally({ args });
      await replay(k, svc);
    }, 120_000);
    afterAll(async () => {
      expect(await k.stop()).toBe(0);
      k.cleanup();
    });

    it('totals and first/last seen are exact', async () => {
      const s = (await q(`/api/v1/services?q=${svc}`)).items[0];
      expect(s.log_records).toBe(sum(0, END, countAll));
      expect(s.log_bytes).toBe(sum(0, END, bytesAll));
      expect(s.first_seen).toBe(SENT[0]!.at);
      expect(s.last_seen).toBe(SENT[SENT.length - 1]!.at);
    });

    it('a window of whole days (day buckets) adds up to what was sent in it', async () => {
      for (const [from, to] of [[T0, END], [T0 + DAY, T0 + 3 * DAY], [T0 + 5 * DAY, END]] as const) {
        const s = (await q(`/api/v1/services?q=${svc}&from=${from}&to=${to}`)).items[0];
        expect(s.log_records, `${from}-${to}`).toBe(sum(from, to, countAll));
        expect(s.log_bytes).toBe(sum(from, to, bytesAll));
        const t = await q(`/api/v1/logs/templates?service=${svc}&from=${from}&to=${to}&sort=bytes`);
        expect(t.items.reduce((x: number, i: any) => x + i.bytes, 0)).toBe(sum(from, to, bytesAll));
        expect(t.items.reduce((x: number, i: any) => x + i.bytes_percentage, 0)).toBeCloseTo(100, 6);
      }
    });

    it('a window in RFC 3339 across retained hours and minutes is exact at its edges', async () => {
      // Day 6, 10:00 to 23:45 : hours 10-22 from hour buckets, 23:00-23:45 from minute buckets (both retained).
      const from = T0 + 6 * DAY + 10 * HOUR;
      const to = T0 + 6 * DAY + 23 * HOUR + 45 * MIN;
      const iso = (t: number) => new Date(t).toISOString();
      const s = (await q(`/api/v1/services?q=${svc}&from=${iso(from)}&to=${iso(to)}`)).items[0];
      expect(s.log_records).toBe(sum(from, to, countAll));
      expect(s.log_bytes).toBe(sum(from, to, bytesAll));
      const logs = (await q(`/api/v1/logs?service=${svc}&from=${from}&to=${to}`)).items[0];
      expect(logs).toMatchObject({ severity: 'INFO', sample_count: sum(from, to, countAll), bytes: sum(from, to, bytesAll), bytes_percentage: 100 });
      const keys = (await q(`/api/v1/keys?service=${svc}&scope=log&from=${from}&to=${to}`)).items;
      expect(keys.map((x: any) => [x.key, x.sample_count])).toEqual([['user.id', sum(from, to, countAll)]]);
    });

    it('a series at a 1-hour step has every hour, empty ones as zeros, and adds up to the window', async () => {
      const from = T0 + 5 * DAY;
      const r = await q(`/api/v1/series?signal=logs&service=${svc}&from=${from}&to=${END + 2 * HOUR}&step=3600`);
      expect(r.items).toHaveLength(50);
      for (const [i, p] of r.items.entries()) {
        expect(p.t).toBe(from + i * HOUR);
        expect(p.count, `hour ${i}`).toBe(sum(p.t, p.t + HOUR, countAll));
        expect(p.bytes).toBe(sum(p.t, p.t + HOUR, bytesAll));
      }
      expect(r.items.slice(48).every((p: any) => p.count === 0 && p.bytes === 0)).toBe(true);
      // One template's series, by id (with its severity).
      const tpl = (await q(`/api/v1/logs/templates?service=${svc}&q=cache`)).items[0];
      const c = await q(`/api/v1/series?signal=logs&service=${svc}&severity=INFO&template=${tpl.template_id}&from=${T0}&to=${END}&step=86400`);
      expect(c.items.map((p: any) => p.count)).toEqual([0, 0, 0, 0, 0, 72, 72]);
    });

    it('retention thinned the detail past each level: an old hour (day) reads as one bucket; the totals stay', async () => {
      // Minute detail is kept for 2 hours before the replayed "now" (day 6, 23:59): before 22:00 an hour's
      // records read at the first minute that had any, and the hour adds up.
      const hour20 = [T0 + 6 * DAY + 20 * HOUR, T0 + 6 * DAY + 21 * HOUR] as const;
      const old = await q(`/api/v1/series?signal=logs&service=${svc}&from=${hour20[0]}&to=${hour20[1]}&step=60`);
      expect(old.items.filter((p: any) => p.count > 0).length).toBeLessThanOrEqual(1);
      expect(old.items.reduce((x: number, p: any) => x + p.count, 0)).toBe(sum(hour20[0], hour20[1], countAll));
      const recent = await q(`/api/v1/series?signal=logs&service=${svc}&from=${T0 + 6 * DAY + 23 * HOUR}&to=${END}&step=60`);
      expect(recent.items.reduce((x: number, p: any) => x + p.count, 0)).toBe(sum(T0 + 6 * DAY + 23 * HOUR, END, countAll));
      expect(recent.items.filter((p: any) => p.count > 0).length).toBeGreaterThan(30);
      // Hour detail for 48 hours: day 3 reads as one bucket at an hourly step, and adds up.
      const hours = await q(`/api/v1/series?signal=logs&service=${svc}&from=${T0 + 3 * DAY}&to=${T0 + 4 * DAY}&step=3600`);
      expect(hours.items.filter((p: any) => p.count > 0).length).toBe(1);
      expect(hours.items.reduce((x: number, p: any) => x + p.count, 0)).toBe(sum(T0 + 3 * DAY, T0 + 4 * DAY, countAll));
      // A window with an edge inside a thinned hour is answered for whole hours there (from rounded down).
      const w = await q(`/api/v1/logs/templates?service=${svc}&from=${hour20[0] + 45 * MIN}&to=${END}`);
      expect(w.items.reduce((x: number, t: any) => x + t.count, 0)).toBe(sum(hour20[0], END, countAll));
      const days = await q(`/api/v1/series?signal=logs&service=${svc}&from=${T0}&to=${END}&step=86400`);
      expect(days.items.map((p: any) => p.count)).toEqual([0, 1, 2, 3, 4, 5, 6].map((d) => sum(T0 + d * DAY, T0 + (d + 1) * DAY, countAll)));
      expect((await q(`/api/v1/services?q=${svc}`)).items[0].log_records).toBe(sum(0, END, countAll));
      // The writer reports its counters once a second: wait for the report that includes retention's rounds.
      const dropped = async () => Number(/keytally_history_dropped_rows_total (\d+)/.exec((await k.get('/metrics')).body)?.[1]);
      expect(await waitFor(dropped, (n) => n > 0)).toBeGreaterThan(0);
    });

    it('templates that merge and split again take their history with them: windows add up per template and in all', async () => {
      // Five states seen once each fold into one template (four merges), then recur and split back (four splits).
      const states = ['Started', 'Paused', 'Resumed', 'Stopped', 'Migrated'];
      const base = T0 + 8 * DAY;
      let seed = 11;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      const perMinute: number[] = [];
      for (let m = 0; m < 40; m++) {
        const n = m < 5 ? 1 : 20;
        const lines = Array.from({ length: n }, (_, i) => `instance ${Math.floor(rnd() * 1e6)} lifecycle ${states[m < 5 ? m : (i + m) % 5]} by scheduler`);
        const body = { resourceLogs: [{ resource: { attributes: [str('service.name', 'moves')] }, scopeLogs: [{ logRecords: lines.map((l) => ({ severityText: 'INFO', body: { stringValue: l } })) }] }] };
        const r = await post(k, '/v1/logs', encode(LogsReq, body), { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(base + m * MIN) });
        expect(r.status).toBe(200);
        perMinute.push(n);
      }
      const end = base + 40 * MIN;
      const all = (await q(`/api/v1/logs/templates?service=moves&limit=100`)).items;
      expect(all.map((t: any) => t.template).sort()).toEqual(states.map((x) => `instance <NUM> lifecycle ${x} by scheduler`).sort());
      // A window over everything gives every template its all-time count and bytes.
      const whole = (await q(`/api/v1/logs/templates?service=moves&limit=100&from=${base}&to=${end}`)).items;
      const byId = (items: any[]) => Object.fromEntries(items.map((t: any) => [t.template_id, [t.count, t.bytes]]));
      expect(byId(whole)).toEqual(byId(all));
      // Any window: the templates add up to the lines received in it, none below zero.
      for (const [a, b] of [[base, base + 5 * MIN], [base + 3 * MIN, base + 17 * MIN], [base + 20 * MIN, end]]) {
        const items = (await q(`/api/v1/logs/templates?service=moves&limit=100&from=${a}&to=${b}`)).items;
        const want = perMinute.slice((a - base) / MIN, (b - base) / MIN).reduce((x, y) => x + y, 0);
        expect(items.reduce((x: number, t: any) => x + t.count, 0), `window ${(a - base) / MIN}-${(b - base) / MIN}`).toBe(want);
        expect(items.every((t: any) => t.count >= 0 && t.bytes >= 0)).toBe(true);
      }
      // And a template's series adds up to its count.
      for (const t of all) {
        const sr = await q(`/api/v1/series?signal=logs&service=moves&severity=INFO&template=${t.template_id}&from=${base}&to=${end}&step=60`);
        expect(sr.items.reduce((x: number, p: any) => x + p.count, 0)).toBe(t.count);
      }
    });

    it('changes since day 5: the new template, what rose and what fell', async () => {
      const since = T0 + 5 * DAY;
      const r = await q(`/api/v1/changes?since=${since}&until=${END}&service=${svc}`);
      expect(r.before).toEqual({ from: T0 + 3 * DAY, to: since });
      expect(r.new.templates.map((t: any) => t.template)).toEqual(['cache miss for key <*>']);
      expect(r.new.templates[0].count).toBe(sum(since, END, (s) => s.c));
      // B halved from day 5 (fell); A rose (days 5, 6 send 4 and 2 against 2 and 3... summed: a = 4+2 vs 2+3) plus the minute lines.
      const fell = r.fell.find((c: any) => c.kind === 'template' && c.label.startsWith('disk'));
      expect(fell).toMatchObject({ count_before: sum(T0 + 3 * DAY, since, (s) => s.b), count_after: sum(since, END, (s) => s.b) });
      expect(fell.bytes_change).toBe(sum(since, END, (s) => s.bytes.B) - sum(T0 + 3 * DAY, since, (s) => s.bytes.B));
      const rose = r.rose.find((c: any) => c.kind === 'template' && c.label.startsWith('user'));
      expect(rose.bytes_change).toBe(sum(since, END, (s) => s.bytes.A) - sum(T0 + 3 * DAY, since, (s) => s.bytes.A));
      expect(rose.bytes_change).toBeGreaterThan(0);
    });

    it('service.version: which versions and when; what is new in 1.1 is one call', async () => {
      const v = await q(`/api/v1/services/${svc}/versions`);
      expect(v.items.map((x: any) => [x.version, x.first_seen])).toEqual([['1.0', T0 + 30 * MIN], ['1.1', T0 + 5 * DAY + 30 * MIN]]);
      expect(v.items[0].records + v.items[1].records).toBe(sum(0, END, countAll));
      const r = await q(`/api/v1/changes?service=${svc}&version=1.1&until=${END}`);
      expect(r.since).toBe(T0 + 5 * DAY + 30 * MIN);
      expect(r.new.templates.map((t: any) => t.template)).toEqual(['cache miss for key <*>']);
    });

    // The report reads a SQLite file (its --db); the other backends have no file to point it at.
    if (backend.name === 'sqlite') it('keytally report: bytes per day, its gate\'s exit codes, and what changed since T', () => {
      const since = T0 + 5 * DAY;
      const perDay = Math.round(sum(since, END, bytesAll) / 2);
      const report = (...args: string[]) =>
        spawnSync(process.execPath, [BIN, 'report', '--data', k.dataDir, '--since', String(since), '--until', String(END), ...args], { cwd: ROOT, encoding: 'utf8' });
      const ok = report('--format', 'json', '--max-bytes-per-day', String(perDay));
      expect(ok.status, ok.stderr).toBe(0);
      const j = JSON.parse(ok.stdout);
      expect(j.services).toEqual([expect.objectContaining({ name: svc, bytes: sum(since, END, bytesAll), bytes_per_day: perDay })]);
      expect(j.templates.map((t: any) => t.bytes)).toEqual([...j.templates.map((t: any) => t.bytes)].sort((x: number, y: number) => y - x));
      expect(j.changes.new.templates.map((t: any) => t.template)).toEqual(['cache miss for key <*>']);
      const warn = report('--warn-bytes-per-day', String(perDay - 1), '--max-bytes-per-day', String(perDay + 1));
      expect(warn.status).toBe(1);
      expect(warn.stdout).toContain(`WARN: service ${svc} bytes per day ${perDay} > ${perDay - 1}`);
      expect(warn.stdout).toMatch(/Changes in the window[\s\S]*new template/);
      const fail = report('--max-bytes-per-day', String(perDay - 1));
      expect(fail.status).toBe(2);
      expect(fail.stdout).toContain('FAIL: service');
      expect(report('--since', 'last tuesday').status).toBe(2);
    });

    it('bad history parameters are 400 with the parameter named, and change nothing', async () => {
      for (const [path, word] of [
        ['/api/v1/series?service=hist', 'signal'],
        ['/api/v1/series?signal=logs', 'service'],
        ['/api/v1/series?signal=logs&service=hist&step=90', 'step'],
        ['/api/v1/series?signal=logs&service=hist&template=1', 'severity'],
        ['/api/v1/series?signal=metrics&service=hist&span=x', 'span'],
        ['/api/v1/series?signal=logs&service=hist&from=0&to=999999999999&step=60', 'step'],
        ['/api/v1/services?from=yesterday', 'from'],
        ['/api/v1/services?from=2000&to=1000', 'from'],
        ['/api/v1/changes', 'since'],
        ['/api/v1/changes?version=1.1', 'service'],
      ] as const) {
        const r = await k.get(path);
        expect(r.status, path).toBe(400);
        expect(r.body.error, path).toContain(`'${word}'`);
      }
      expect((await k.get(`/api/v1/changes?service=${svc}&version=9.9`)).status).toBe(404);
      expect((await k.get(`/api/v1/services/nope/versions`)).status).toBe(404);
      expect((await q(`/api/v1/services?q=${svc}`)).items[0].log_records).toBe(sum(0, END, countAll));
    });

    // Last (it sends more): the memory store keeps nothing over a restart.
    if (backend.name !== 'memory') it('a restart keeps every template\'s history under it, and adds to it', async () => {
      const windowed = async (from: number, to: number) =>
        Object.fromEntries((await q(`/api/v1/logs/templates?service=${svc}&limit=100&from=${from}&to=${to}`)).items.map((t: any) => [t.template, t.count]));
      const before = await windowed(T0, END);
      expect(Object.keys(before).length).toBe(3);
      expect(await k.stop()).toBe(0);
      k = await startKeytally({ args, dataDir: k.dataDir });
      expect(await windowed(T0, END)).toEqual(before);
      // One more request after the restart, two hours later: the window after END holds exactly it, per template.
      const at = END + 2 * HOUR;
      const r = await post(k, '/v1/logs', encode(LogsReq, request(svc, '1.1', 5, 1, 2)), { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(at) });
      expect(r.status).toBe(200);
      const after = await windowed(END, at + HOUR);
      expect(Object.values(after).sort()).toEqual([1, 2, 5]);
      expect(await windowed(T0, END)).toEqual(before);
    });
  });
}
