/**
 * The reader thread: answers API queries on its own read-only SQLite
 * connection, so a slow query never stalls the front end's event loop or the
 * writer's transactions (WAL lets readers and the one writer run together).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Config } from '../src/config.js';
import type { ReaderHeap, ReaderRequest, ReaderResponse } from '../src/model/messages.js';
import { threadHeap } from '../src/util/thread-heap.js';
import { handleApiRequest } from '../src/api/router.js';
import { openReadOnly } from '../src/store/sqlite-store.js';
import { prepared } from '../src/api/statements.js';
import { startHeapTrace } from '../src/util/heap-trace.js';

const { config } = workerData as { config: Config };
startHeapTrace('reader');
const port = parentPort!;

/** How often the reader reports its heap for /metrics (it has no other reason to speak unasked). */
const HEAP_REPORT_MS = 2000;
const reportHeap = () => port.postMessage({ type: 'heap', heap: threadHeap() } satisfies ReaderHeap);
reportHeap();
setInterval(reportHeap, HEAP_REPORT_MS).unref();

let db: Database.Database | undefined;

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

/**
 * Opens the database on first use, not at start: the writer creates and
 * migrates the file concurrently, so at start-up it may not exist yet (or be
 * empty). Until it is there with its schema, requests get 503 and the next
 * request tries again.
 */
function connection(): Database.Database | undefined {
  if (db) return db;
  let conn: Database.Database;
  try {
    conn = openReadOnly(config.data, config);
  } catch {
    return undefined;
  }
  try {
    // The last table the initial migration creates: present means the schema is complete.
    const ready = conn.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'key_metadata'`).get();
    if (!ready) {
      conn.close();
      return undefined;
    }
  } catch {
    conn.close();
    return undefined;
  }
  db = conn;
  return db;
}

function answer(req: ReaderRequest): { status: number; body: string } {
  const conn = connection();
  if (!conn) return json(503, { error: 'store not ready yet' });
  if (req.path === '/__ping') {
    prepared(conn, 'SELECT 1').get();
    return json(200, { ok: true });
  }
  return handleApiRequest(conn, req.path, req.query);
}

port.on('message', (req: ReaderRequest) => {
  let res: { status: number; body: string };
  try {
    res = answer(req);
  } catch (err) {
    // Never let one bad query take the thread down; the main thread logs 5xx answers.
    res = json(500, { error: `internal error: ${(err as Error)?.message ?? String(err)}` });
  }
  const msg: ReaderResponse = { id: req.id, status: res.status, body: res.body };
  port.postMessage(msg);
});
