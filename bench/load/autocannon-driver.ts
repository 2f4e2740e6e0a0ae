/**
 * The OTLP/HTTP load through autocannon (`npm run bench -- --client autocannon`): the agreed load-testing library, kept
 * beside keytally's lean client (http1-driver.ts, the default) so the two can be compared on one server.
 *
 * Two things autocannon does not do the way a lossless count needs, handled
 * here through its per-client hooks (the lean client does both itself):
 * - Stopping: autocannon's own duration timer destroys sockets with requests
 *   in flight, which the server may still accept, so the client's count of
 *   accepted records would fall short of what the server committed. We stop
 *   each client instead by capping its requests (responseMax), so it finishes
 *   the request in flight and then closes.
 * - Open loop: autocannon's rate limit releases each connection's quota at
 *   the start of every second (bursts of `connections` requests). A pacer
 *   here releases requests at even intervals to whichever connection is idle.
 */
import { createRequire } from 'node:module';
import { PATHS, type Pool } from './encode.js';
import { latencyHistogram, latencySummary, zeroCounts as zero } from './latency.js';
import type { DriverInit, DriverMessage, DriverResult } from './protocol.js';

const require = createRequire(import.meta.url);

/** The parts of autocannon 8's Client this driver touches (lib/httpClient.js). */
interface AcClient {
  reqsMade: number;
  responseMax: number | undefined;
  destroyed: boolean;
  _doRequest(): void;
  destroy(): void;
  on(event: 'done', fn: () => void): void;
}
interface AcRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  setupRequest(req: AcRequest, context: Record<string, number>): AcRequest;
  onResponse(status: number, body: string, context: Record<string, number>): void;
}
interface AcTracker {
  on(event: 'response', fn: (client: AcClient, status: number, bytes: number, ms: number) => void): void;
  on(event: 'done', fn: (result: AcResult) => void): void;
  stop(): void;
}
interface AcResult {
  errors: number;
  timeouts: number;
  resets: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>, cb?: (err: Error | null, r: AcResult) => void) => AcTracker;
const autocannon = require('autocannon') as Autocannon;

export function runAutocannon(init: DriverInit, pool: Pool, send: (m: DriverMessage) => void): Promise<DriverResult> {
  const bodies = pool.bodies;
  const paced = init.rate > 0;
  const requestsPerSecond = paced ? init.rate / init.batch : 0;
  // Latency in microseconds, 2xx responses only: refusals (429/503) answer fast and would flatter the percentiles.
  const latency = latencyHistogram();
  const offered = zero();
  const accepted = zero();
  const statusCounts: Record<string, number> = {};
  let next = 0;
  let responses = 0;
  let ok = 0;
  let non2xx = 0;
  let lastResponseAt = 0;
  let startAt = 0;
  let stopping = false;
  const clients: AcClient[] = [];

  // Open loop: idle clients wait here for the pacer, with autocannon's own send function.
  const idle: AcClient[] = [];
  const sendNext = new Map<AcClient, () => void>();
  let released = 0;
  let late = 0;

  const request: AcRequest = {
    method: 'POST',
    path: PATHS.logs,
    headers: pool.headers,
    // Called as each request is built, just before it is written: rotate through the pool.
    setupRequest(req, context) {
      const i = next++ % bodies.length;
      const b = bodies[i]!;
      context['i'] = i;
      offered[b.signal] += b.records;
      return { ...req, path: PATHS[b.signal], body: b.body };
    },
    // With pipelining 1 the context still belongs to the request just answered.
    onResponse(status, _body, context) {
      if (status >= 200 && status < 300) {
        const b = bodies[context['i']!]!;
        accepted[b.signal] += b.records;
      }
    },
  };

  return new Promise<DriverResult>((resolve, reject) => {
    startAt = performance.now();
    const tracker = autocannon(
      {
        url: init.url,
        connections: init.connections,
        pipelining: 1,
        // Our own stop ends the run; autocannon's timer is only a backstop.
        duration: init.duration + 600,
        timeout: 60,
        requests: [request],
        setupClient(client: AcClient) {
          clients.push(client);
          if (!paced) return;
          const original = client._doRequest.bind(client);
          sendNext.set(client, original);
          // After the stop, the original sees responseMax reached and closes the client.
          client._doRequest = () => {
            if (stopping || client.destroyed) original();
            else idle.push(client);
          };
        },
      },
      (err, result) => {
        clearInterval(progress);
        if (pacer) clearInterval(pacer);
        if (err) return reject(err);
        const durationMs = (lastResponseAt || performance.now()) - startAt;
        resolve({
          durationMs,
          responses,
          ok,
          non2xx,
          statusCounts,
          errors: result.errors,
          timeouts: result.timeouts,
          offered,
          accepted,
          latencyMs: latencySummary(latency),
          pacedLate: late,
        });
      },
    );
    tracker.on('response', (_client, status, _bytes, ms) => {
      responses++;
      lastResponseAt = performance.now();
      statusCounts[status] = (statusCounts[status] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        ok++;
        latency.recordValue(Math.max(1, Math.round(ms * 1000)));
      } else non2xx++;
    });

    let pacer: NodeJS.Timeout | undefined;
    if (paced) {
      // Release requests on an even schedule; if no connection is free when one is due, it goes out as soon as one is (counted as late).
      pacer = setInterval(() => {
        const due = Math.floor(((performance.now() - startAt) / 1000) * requestsPerSecond) + 1;
        while (released < due && idle.length > 0) {
          if (due - released > 1) late++;
          released++;
          const c = idle.shift()!;
          if (!c.destroyed) sendNext.get(c)!();
        }
      }, 1);
    }

    const progress = setInterval(() => {
      send({ type: 'progress', elapsedMs: performance.now() - startAt, responses, ok, non2xx, accepted: { ...accepted } });
    }, 1000);

    setTimeout(() => {
      stopping = true;
      if (pacer) clearInterval(pacer);
      // A busy client finishes the request it has in flight, then closes (autocannon's responseMax check); an idle one closes now.
      const waiting = new Set(idle.splice(0));
      for (const c of clients) {
        if (waiting.has(c) || c.reqsMade === 0) c.destroy();
        else c.responseMax = c.reqsMade;
      }
    }, init.duration * 1000);
  });
}
