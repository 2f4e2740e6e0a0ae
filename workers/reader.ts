/**
 * The reader thread: answers API queries from the store's read side, so a
 * slow query never stalls the front end's event loop. SQLite: its own
 * read-only connection (WAL lets readers and the one writer run together).
 * Memory: the data lives in the writer thread, so questions go there over a
 * port (src/store/remote.ts) and the routes still run here.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Config } from '../src/config.js';
import type { ReaderHeap, ReaderQueryStats, ReaderRequest, ReaderResponse } from '../src/model/messages.js';
import { LatencyWindow } from '../src/util/latency-window.js';
import { threadHeap } from '../src/util/thread-heap.js';
import { handleApiRequest } from '../src/api/router.js';
import { openReadStore, StoreNotReady, type ReadStore } from '../src/store/store.js';
import { remoteReadStore } from '../src/store/remote.js';
import { startHeapTrace } from '../src/util/heap-trace.js';

const { config, storePort } = workerData as { config: Config; storePort?: MessagePort };
startHeapTrace('reader');
const port = parentPort!;

/** How often the reader reports its heap for /metrics (it has no other reason to speak unasked). */
const HEAP_REPORT_MS = 2000;
const latency = new LatencyWindow(1024);
const queries: ReaderQueryStats = { count: 0, msSum: 0, msP50: 0, msP90: 0, msP99: 0, errors: 0 };
const reportHeap = () => {
  queries.msP50 = latency.quantile(0.5);
  queries.msP90 = latency.quantile(0.9);
  queries.msP99 = latency.quantile(0.99);
  port.postMessage({ type: 'heap', heap: threadHeap(), queries: { ...queries } } satisfies ReaderHeap);
};
reportHeap();
setInterval(reportHeap, HEAP_REPORT_MS).unref();

const store: ReadStore = storePort ? remoteReadStore(storePort, config.store) : await openReadStore(config);

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

async function answer(req: ReaderRequest): Promise<{ status: number; body: string }> {
  if (req.path === '/__ping') {
    try {
      await store.ping();
    } catch (err) {
      if (err instanceof StoreNotReady) return json(503, { error: err.message });
      return json(503, { error: `store unavailable: ${(err as Error).message}` });
    }
    return json(200, { ok: true });
  }
  return handleApiRequest(store, req.path, req.query);
}

port.on('message', (req: ReaderRequest) => {
  const t0 = performance.now();
  answer(req)
    // Never let one bad query take the thread down; the main thread logs 5xx answers.
    .catch((err: unknown) => json(500, { error: `internal error: ${(err as Error)?.message ?? String(err)}` }))
    .then((res) => {
      if (req.path !== '/__ping') {
        const ms = performance.now() - t0;
        latency.add(ms);
        queries.count++;
        queries.msSum += ms;
      }
      if (res.status >= 500) queries.errors++;
      port.postMessage({ id: req.id, status: res.status, body: res.body } satisfies ReaderResponse);
    });
});
