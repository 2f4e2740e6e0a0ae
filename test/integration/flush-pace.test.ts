/**
 * A busy worker spaces its timed flushes (src/util/flush-pace.ts): under load each flush's fixed cost (its msgpack,
 * the writer's merge and the commit after it) is paid for the same entities however few records came in between.
 * One worker made to take 20 ms a request (KEYTALLY_TEST_TASK_MS) and kept busy for 3 s with --flush-ms 100: flushing
 * every 100 ms it sent 27 batches; paced (5x when busy) 8. And a worker that always has its next request waiting still
 * flushes on time (checked before each task): on the timer alone it sent one batch in 3 s. Accepted acks: nothing forces
 * a flush but the pacing, and every accepted record is still committed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeProto, logsRequest } from '../helpers/otlp-build.js';
import { post, startKeytally, waitFor, type Keytally } from '../helpers/server.js';

let k: Keytally;
beforeAll(async () => {
  k = await startKeytally({
    args: ['--ack', 'accepted', '--flush-ms', '100', '--commit-ms', '5', '--workers', '1'],
    env: { KEYTALLY_TEST_TASK_MS: '20' },
  });
});
afterAll(async () => {
  expect(await k.stop()).toBe(0);
  k.cleanup();
});

async function metric(name: string, labels = ''): Promise<number> {
  const text = (await k.get('/metrics')).body as string;
  const m = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

const body = encodeProto('logs', logsRequest([{ resource: { 'service.name': 'paced' }, logs: [{ body: 'one line', attrs: { a: 'b' } }] }]));
let committed = 0;

/** `clients` loops of one request at a time for `ms`; then waits until all is committed. Batches the writer got meanwhile. */
async function busy(ms: number, clients: number): Promise<{ sent: number; batches: number }> {
  const before = await metric('keytally_writer_batches_total');
  let sent = 0;
  const until = Date.now() + ms;
  const loop = async () => {
    while (Date.now() < until) {
      expect((await post(k, '/v1/logs', body)).status).toBe(200);
      sent++;
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  committed += sent;
  // The writer reports its counters once a second: wait for every accepted record to be counted as committed.
  await waitFor(() => metric('keytally_committed_records_total', '{signal="logs"}'), (n) => n === committed);
  return { sent, batches: (await metric('keytally_writer_batches_total')) - before };
}

describe('flush pacing', () => {
  it('a busy worker flushes less often than every --flush-ms, and loses nothing', async () => {
    // One request at a time: the worker idles between them only for the round trip.
    const { sent, batches } = await busy(3_000, 1);
    expect(sent).toBeGreaterThan(30);
    // Every 100 ms would be ~30 over the 3 s (27 measured); paced ~6-8, with room for a slow start (the first interval
    // is unpaced) and for a loaded machine, where longer round trips leave the worker idle more (at half busy: 2x).
    expect(batches).toBeGreaterThan(2);
    expect(batches).toBeLessThanOrEqual(20);
  });

  it('a worker whose next request is always waiting still flushes, paced', async () => {
    // Two clients for the worker's two task slots: a task is always queued, the event loop never idle.
    const { sent, batches } = await busy(3_000, 2);
    expect(sent).toBeGreaterThan(30);
    expect(batches).toBeGreaterThan(2);
    expect(batches).toBeLessThanOrEqual(20);
  });
});
