/**
 * The OTLP/HTTP side of the load driver with keytally's own client (http1-client.ts, the default; `--client
 * autocannon` runs the same load through autocannon). The pool's requests are built once, headers and body in one
 * buffer each, shared by every connection: a request costs the driver one socket write and the parse of a short
 * answer.
 *
 * Closed loop: --connections connections, each sends its next request when the last is answered. Open loop (--rate):
 * requests are released at even intervals to whichever connection is idle. Stopping: each connection finishes its
 * request in flight and then closes, so every request the server answered 2xx is counted, as with the other drivers.
 * A connection that fails (error, timeout, or closed by the server) counts an error or a timeout for a request in
 * flight, and is replaced unless the run is stopping.
 */
import type { Pool } from './encode.js';
import { PATHS } from './encode.js';
import { buildRequest, Http1Connection, type Answer } from './http1-client.js';
import type { DriverInit, DriverMessage, DriverResult } from './protocol.js';
import { startPacer, Tally } from './tally.js';

/** Seconds before a request with no answer counts as a timeout (autocannon's setting in the other driver). */
const TIMEOUT_S = 60;

export function runHttp1(init: DriverInit, pool: Pool, send: (m: DriverMessage) => void): Promise<DriverResult> {
  const url = new URL(init.url);
  const host = url.hostname;
  const port = Number(url.port);
  const bodies = pool.bodies;
  const requests = bodies.map((b) => buildRequest(url.host, PATHS[b.signal], pool.headers, b.body));
  const paced = init.rate > 0;
  const t = new Tally(send);
  let next = 0;
  let stopping = false;
  let open = 0;

  return new Promise<DriverResult>((resolve) => {
    let pacer: NodeJS.Timeout | undefined;
    const finishIfDone = () => {
      if (stopping && open === 0) resolve(t.result());
    };

    /** One of the --connections places: holds a connection, replaced when it breaks. */
    class Slot {
      conn: Http1Connection | undefined;
      /** Index in the pool of the request in flight. */
      current = -1;

      connect(): void {
        open++;
        this.conn = new Http1Connection(host, port, TIMEOUT_S * 1000, (a, sentAt) => this.answered(a, sentAt), (why, inFlight) => this.broke(why, inFlight), () =>
          this.ready(),
        );
      }

      /** Connected, or answered: send the next request, wait for the pacer, or close when stopping. */
      ready(): void {
        const c = this.conn;
        if (c === undefined || c.busy) return;
        if (stopping) {
          this.closeNow();
          return;
        }
        if (paced) idle.push(this);
        else this.sendNext();
      }

      sendNext(): void {
        const i = next++ % bodies.length;
        this.current = i;
        t.sent(bodies[i]!);
        this.conn!.send(requests[i]!);
      }

      answered(a: Answer, sentAt: number): void {
        const good = a.status >= 200 && a.status < 300;
        t.answered(a.status, good, performance.now() - sentAt);
        if (good) t.accept(bodies[this.current]!);
        // After `Connection: close` the connection reports itself broken next, and is replaced there.
        if (!a.close) this.ready();
      }

      broke(why: 'error' | 'timeout' | 'closed', inFlight: boolean): void {
        open--;
        this.conn = undefined;
        if (inFlight) {
          if (why === 'timeout') t.timeouts++;
          else t.errors++;
        }
        const at = idle.indexOf(this);
        if (at >= 0) idle.splice(at, 1);
        // A server that refuses connections would make an immediate retry spin: a failed one waits a little.
        if (!stopping) setTimeout(() => !stopping && this.connect(), why === 'closed' ? 0 : 10);
        finishIfDone();
      }

      closeNow(): void {
        const c = this.conn;
        if (c === undefined) return;
        this.conn = undefined;
        open--;
        c.close();
        finishIfDone();
      }
    }

    /** Open loop: connections with nothing in flight, waiting for the pacer. */
    const idle: Slot[] = [];
    const slots: Slot[] = [];
    for (let i = 0; i < init.connections; i++) {
      const s = new Slot();
      slots.push(s);
      s.connect();
    }

    if (paced) {
      pacer = startPacer(t, init.rate / init.batch, () => {
        const s = idle.shift();
        s?.sendNext();
        return s !== undefined;
      });
    }

    setTimeout(() => {
      stopping = true;
      if (pacer) clearInterval(pacer);
      // Idle connections close now; busy ones after their answer (Slot.ready).
      idle.length = 0;
      for (const s of slots) if (s.conn !== undefined && !s.conn.busy) s.closeNow();
      finishIfDone();
    }, init.duration * 1000);
  });
}
