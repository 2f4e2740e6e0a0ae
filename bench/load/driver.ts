/**
 * The load driver: a child process (forked by bench/load.ts) that builds the
 * body pool and drives the sidecar — OTLP/HTTP with keytally's lean client
 * (http1-driver.ts) or, with `--client autocannon`, autocannon (autocannon-driver.ts);
 * OTLP/gRPC with grpc-driver.ts — so the load generator never shares an event
 * loop, or a core's time slice, with the process that samples and reports.
 *
 * Protocol over the IPC channel: parent sends `init`; the driver answers
 * `ready` once the pool is built; parent sends `go`; the driver sends
 * `progress` every second and `done` with the result.
 */
import type { Signal } from '../../src/model/otlp.js';
import { buildPool } from './encode.js';
import { runAutocannon } from './autocannon-driver.js';
import { runGrpc } from './grpc-driver.js';
import { runHttp1 } from './http1-driver.js';
import { zeroCounts as zero } from './latency.js';
import type { DriverInit, DriverMessage, ParentMessage } from './protocol.js';

const send = (m: DriverMessage) => process.send!(m);

process.on('message', (m: ParentMessage) => {
  if (m.type === 'init') {
    const init = m.init;
    const pool = buildPool({ mix: init.mix, count: init.pool, batch: init.batch, format: init.format, gzip: init.gzip, seed: init.seed });
    const perSignal = zero();
    for (const b of pool.bodies) perSignal[b.signal as Signal]++;
    send({ type: 'ready', bodies: pool.bodies.length, bytes: pool.bytes, rawBytes: pool.rawBytes, generateMs: pool.generateMs, bodiesPerSignal: perSignal });
    process.once('message', (g: ParentMessage) => {
      if (g.type !== 'go') return;
      // Warm-up first (JIT, caches, SQLite pages, miners' first templates), so the measured run sees the steady state a long-running sidecar is in.
      const drive = (i: DriverInit) => (i.protocol === 'grpc' ? runGrpc(i, pool, send) : i.client === 'autocannon' ? runAutocannon(i, pool, send) : runHttp1(i, pool, send));
      const warm = init.warmup > 0 ? drive({ ...init, duration: init.warmup }).then((result) => send({ type: 'warmed', result })) : Promise.resolve();
      warm.then(() => drive(init)).then(
        (result) => {
          send({ type: 'done', result });
          process.disconnect();
        },
        (err: Error) => {
          send({ type: 'error', message: err.stack ?? err.message });
          process.disconnect();
        },
      );
    });
  }
});
