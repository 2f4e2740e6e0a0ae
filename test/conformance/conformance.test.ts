/**
 * The conformance suite: one workload of all three signals, sent with the
 * OpenTelemetry SDK exporters to one keytally per backend at once, then every
 * API question asked of each; every answer must equal the memory store's (the
 * reference) — counts, key sets, estimates, templates, percentages, order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Keytally } from '../helpers/server.js';
import { memory, sqlite, type Backend } from './backends.js';
import { entityQuestions, listQuestions, withoutTimes } from './questions.js';
import { DEFAULT_SIZE, expectedTotals, sendWorkload, SERVICES } from './workload.js';
import { postgresBackend } from './postgres-backend.js';

const backends: Backend[] = [memory, sqlite, ...(await postgresBackend())];
const servers = new Map<string, Keytally>();
let window = { from: 0, to: 0 };

beforeAll(async () => {
  const started = await Promise.all(backends.map((b) => b.start()));
  backends.forEach((b, i) => servers.set(b.name, started[i]!));
  window.from = Date.now();
  await sendWorkload(started.map((k) => k.otlpUrl), 'all');
  window.to = Date.now();
}, 120_000);

afterAll(async () => {
  for (const k of servers.values()) {
    expect(await k.stop()).toBe(0);
    k.cleanup();
  }
});

async function compare(questions: string[]): Promise<void> {
  const ref = servers.get('memory')!;
  const problems: string[] = [];
  let nonEmpty = 0;
  for (const q of questions) {
    const want = await ref.get(q);
    if (want.status === 200 && (want.body.total > 0 || want.body.name)) nonEmpty++;
    const wantBody = withoutTimes(want.body, window, problems, `memory ${q}`);
    for (const b of backends) {
      if (b.name === 'memory') continue;
      if (Object.keys(b.skip).some((p) => q.startsWith(p))) continue;
      const got = await servers.get(b.name)!.get(q);
      const gotBody = withoutTimes(got.body, window, problems, `${b.name} ${q}`);
      if (got.status !== want.status) problems.push(`${b.name} ${q}: status ${got.status}, memory ${want.status}`);
      else if (JSON.stringify(gotBody) !== JSON.stringify(wantBody)) {
        problems.push(`${b.name} ${q}:\n  got  ${JSON.stringify(gotBody).slice(0, 600)}\n  want ${JSON.stringify(wantBody).slice(0, 600)}`);
      }
    }
  }
  expect(problems.slice(0, 10).join('\n')).toBe('');
  // Most questions must have something to compare (a suite comparing empty answers proves nothing).
  expect(nonEmpty).toBeGreaterThan(questions.length * 0.7);
}

describe('conformance: every backend answers as the memory store', () => {
  it('the reference itself holds the workload exactly', async () => {
    const totals = expectedTotals();
    for (const k of servers.values()) {
      const s = await k.get('/api/v1/services?limit=100');
      expect(s.body.total).toBe(SERVICES.length);
      for (const item of s.body.items) expect(item).toMatchObject({ log_records: totals.logs, spans: totals.spans });
      // user.id has one value per line, past the sketches' exact range: an estimate, within 3 %.
      const key = await k.get('/api/v1/keys?scope=log&q=user.id&service=cart');
      expect(Math.abs(key.body.items[0].cardinality_estimate / DEFAULT_SIZE.logs - 1)).toBeLessThan(0.03);
      // The series estimate over time ends at the metric's series estimate (cart sends 300 pods).
      const est = await k.get('/api/v1/metrics/requests/series-estimates?service=cart&step=86400');
      const metric = await k.get('/api/v1/metrics/requests?service=cart');
      expect(est.body.items.at(-1).estimate).toBe(metric.body.items[0].series_estimate);
      expect(metric.body.items[0].series_estimate).toBe(300);
    }
  });

  it('list routes, with every filter, sort, order and page', async () => {
    await compare(listQuestions());
  });

  it('overviews and metric details (and their 404s)', async () => {
    await compare(entityQuestions(['jobs.done', 'http.server.duration', 'queue.depth', 'requests']));
  });
});
