/**
 * A metric's series estimate over time (GET /api/v1/metrics/{name}/series-estimates),
 * end to end on every backend under the test clock: label sets grow at known
 * receive times, and the estimates rise at exactly those buckets (within the
 * sketch's error), carry forward through quiet hours, are null before the
 * metric existed, per label key too; retention drops the minute detail and
 * keeps the hours; every bad parameter is a 400 naming it, an unknown metric
 * or label a 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeProto, metricsRequest } from '../helpers/otlp-build.js';
import { freshDatabase } from '../helpers/postgres.js';
import { post, startKeytally, waitFor, type Keytally } from '../helpers/server.js';
import { standardError } from '../../src/sketch/hll.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Monday 2026-01-05 00:00 UTC. */
const T0 = Date.UTC(2026, 0, 5);
/** Three standard errors at p = 14 (the sparse range is exact; these sizes reach the dense one). */
const TOL = 3 * standardError(14);

/** When each request was received and how many pods (distinct label sets) the metric had reported by then. */
const STAGES: Array<{ at: number; pods: number }> = [
  { at: T0 + 10 * MIN, pods: 10 },
  { at: T0 + HOUR + 10 * MIN, pods: 50 },
  // hour 2: nothing
  { at: T0 + 3 * HOUR + 10 * MIN, pods: 2000 },
  { at: T0 + 3 * HOUR + 20 * MIN, pods: 3000 },
];
/** The clock moves a day on (one more point of an old pod: no new series), so minute retention drops day 0's minutes. */
const LATER = T0 + DAY + 5 * MIN;

function body(pods: number): Uint8Array {
  const points = Array.from({ length: pods }, (_, p) => ({ pod: `pod-${p}`, zone: `z${p % 3}` }));
  return encodeProto('metrics', metricsRequest([{ resource: { 'service.name': 'fleet' }, metrics: [{ name: 'pods.up', type: 'gauge', points }] }]));
}

const backends: Array<{ name: string; args: () => Promise<string[]> }> = [
  { name: 'sqlite', args: async () => [] },
  { name: 'memory', args: async () => ['--store', 'memory'] },
  { name: 'postgres', args: async () => ['--store', 'postgres', '--postgres-url', await freshDatabase('kt_estimates')] },
];
const servers = new Map<string, Keytally>();

beforeAll(async () => {
  await Promise.all(
    backends.map(async (b) => {
      const k = await startKeytally({
        args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--test-clock', 'on', '--retention-minutes', '360', '--retention-hours', '48', ...(await b.args())],
      });
      servers.set(b.name, k);
      for (const s of STAGES) {
        const r = await post(k, '/v1/metrics', body(s.pods), { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(s.at) });
        expect(r.status).toBe(200);
      }
    }),
  );
}, 120_000);

afterAll(async () => {
  for (const k of servers.values()) {
    await k.stop();
    k.cleanup();
  }
});

const path = (q: string, metric = 'pods.up') => `/api/v1/metrics/${encodeURIComponent(metric)}/series-estimates?${q}`;

function expectNear(got: Array<number | null>, want: Array<number | null>): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    if (want[i] === null) expect(g, `point ${i}`).toBeNull();
    else expect(Math.abs(g! / want[i]! - 1), `point ${i}: ${g} vs ${want[i]}`).toBeLessThan(TOL);
  });
}

describe.each(backends.map((b) => b.name))('series estimates over time: %s', (name) => {
  const get = (q: string, metric?: string) => servers.get(name)!.get(path(q, metric));

  it('rise at the hours the label sets grew, carry through the quiet hour, null before the metric existed', async () => {
    const r = await get(`service=fleet&from=${T0 - 2 * HOUR}&to=${T0 + 5 * HOUR}&step=3600`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ service: 'fleet', metric: 'pods.up', label: null, from: T0 - 2 * HOUR, to: T0 + 5 * HOUR, step: 3600 });
    expect(r.body.items.map((p: any) => p.t)).toEqual(Array.from({ length: 7 }, (_, i) => T0 + (i - 2) * HOUR));
    expectNear(r.body.items.map((p: any) => p.estimate), [null, null, 10, 50, 50, 3000, 3000]);
    // The end of the window is the metric's series estimate as the metric list shows it.
    const m = await servers.get(name)!.get('/api/v1/metrics?service=fleet');
    expect(r.body.items.at(-1).estimate).toBe(m.body.items[0].series_estimate);
  });

  it('minute detail: the two requests of hour 3 are two steps; before them, the last hour value', async () => {
    const r = await get(`service=fleet&from=${T0 + 3 * HOUR}&to=${T0 + 3 * HOUR + 30 * MIN}&step=60`);
    expect(r.status).toBe(200);
    const want = Array.from({ length: 30 }, (_, m) => (m < 10 ? 50 : m < 20 ? 2000 : 3000));
    expectNear(r.body.items.map((p: any) => p.estimate), want);
  });

  it('per label key: pod grows like the series, zone stays at 3', async () => {
    const q = `service=fleet&from=${T0}&to=${T0 + 5 * HOUR}&step=3600`;
    const pod = await get(`${q}&label=pod`);
    expect(pod.body.label).toBe('pod');
    expectNear(pod.body.items.map((p: any) => p.estimate), [10, 50, 50, 3000, 3000]);
    const zone = await get(`${q}&label=zone`);
    expect(zone.body.items.map((p: any) => p.estimate)).toEqual([3, 3, 3, 3, 3]);
  });

  it('a day step over the week answers from the day buckets', async () => {
    const r = await get(`service=fleet&from=${T0}&to=${T0 + 2 * DAY}&step=86400`);
    expectNear(r.body.items.map((p: any) => p.estimate), [3000, 3000]);
  });

  it('bad parameters are 400s naming the parameter; unknown metric or label 404', async () => {
    const bad: Array<[string, RegExp]> = [
      [path(''), /parameter 'service' is required/],
      [path('service=fleet&step=90'), /'step' must be a multiple of 60/],
      [path('service=fleet&step=30'), /'step' must be >= 60/],
      [path('service=fleet&step=abc'), /'step' must be an integer/],
      [path(`service=fleet&from=${T0 + HOUR}&to=${T0}`), /'from' .* is after 'to'/],
      [path('service=fleet&from=yesterday'), /'from' must be unix milliseconds or an RFC 3339 time/],
      [path(`service=fleet&from=0&to=${T0}&step=60`), /at most 10000: use a larger 'step'/],
      [path('service=fleet&signal=metrics'), /unknown parameter 'signal'/],
      [path('service=fleet&label=a&label=b'), /parameter 'label' given more than once/],
    ];
    for (const [p, msg] of bad) {
      const r = await servers.get(name)!.get(p);
      expect(r.status, p).toBe(400);
      expect(r.body.error, p).toMatch(msg);
    }
    const none = await get('service=fleet', 'no.such');
    expect(none.status).toBe(404);
    expect(none.body.error).toBe("no metric 'no.such' for service 'fleet'");
    expect((await get('service=elsewhere')).status).toBe(404);
    const label = await get('service=fleet&label=rack');
    expect(label.status).toBe(404);
    expect(label.body.error).toBe("metric 'pods.up' of service 'fleet' has no label 'rack'");
  });

  it('retention: a day later the minute detail of day 0 is gone, its hours are kept', async () => {
    const k = servers.get(name)!;
    const r = await post(k, '/v1/metrics', body(1), { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(LATER) });
    expect(r.status).toBe(200);
    // Without minute rows the window's steps only carry the last value known before it (from the hours).
    // Retention runs after commits, a few ms at a time (a loaded PostgreSQL may need more than one round):
    // each poll sends one more point of an old pod, so there is a commit and a round to wait for.
    const minutes = await waitFor(
      async () => {
        await post(k, '/v1/metrics', body(1), { 'content-type': 'application/x-protobuf', 'x-keytally-received-at': String(LATER) });
        return get(`service=fleet&from=${T0 + 3 * HOUR}&to=${T0 + 3 * HOUR + 30 * MIN}&step=60`);
      },
      (a) => a.body.items?.every((p: any) => p.estimate === a.body.items[0].estimate),
    );
    expectNear([minutes.body.items[0].estimate], [50]);
    const hours = await get(`service=fleet&from=${T0}&to=${T0 + 5 * HOUR}&step=3600`);
    expectNear(hours.body.items.map((p: any) => p.estimate), [10, 50, 50, 3000, 3000]);
    // The day after: the same all-time estimate (an old pod added nothing).
    const later = await get(`service=fleet&from=${T0 + DAY}&to=${T0 + DAY + 10 * MIN}&step=60`);
    expectNear(later.body.items.map((p: any) => p.estimate), Array(10).fill(3000));
  });
});
