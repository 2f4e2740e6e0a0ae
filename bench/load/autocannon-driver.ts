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
import { startPacer, Tally } from './tally.js';
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
  let next = 0;
  let stopping = false;
  const clients: AcClient[] = [];
  // Set as the run starts (the Promise below), before the first request is built.
  let t: Tally;

  // Open loop: idle clients wait here for the pacer, with autocannon's own send function.
  const idle: AcClient[] = [];
  const sendNext = new Map<AcClient, () => void>();

  const request: AcRequest = {
    method: 'POST',
    path: PATHS.logs,
    headers: pool.headers,
    // Called as each request is built, just before it is written: rotate through the pool.
    setupRequest(req, context) {
      const i = next++ % bodies.length;
      const b = bodies[i]!;
      context['i'] = i;
      t.sent(b);
      return { ...req, path: PATHS[b.signal], body: b.body };
    },
    // With pipelining 1 the context still belongs to the request just answered.
    onResponse(status, _body, context) {
      if (status >= 200 && status < 300) t.accept(bodies[context['i']!]!);
    },
  };

  return new Promise<DriverResult>((resolve, reject) => {
    t = new Tally(send);
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
        if (pacer) clearInterval(pacer);
        const r = t.result({ errors: result?.errors, timeouts: result?.timeouts });
        if (err) return reject(err);
        resolve(r);
      },
    );
    tracker.on('response', (_client, status, _bytes, ms) => t.answered(status, status >= 200 && status < 300, ms));

    let pacer: NodeJS.Timeout | undefined;
    if (paced) {
      pacer = startPacer(t, init.rate / init.batch, () => {
        const c = idle.shift();
        if (c === undefined) return false;
        if (!c.destroyed) sendNext.get(c)!();
        return true;
      });
    }

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
