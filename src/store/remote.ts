/**
 * A read side reached over a MessagePort: for backends whose data lives in
 * the writer thread (the memory store), the reader thread sends each question
 * (method name and its typed query object) to the writer, which answers it
 * between commits. serveQueries() is the writer's end, remoteReadStore() the
 * reader's.
 *
 * A question is answered in one turn of the writer's event loop, so each
 * answer is consistent in itself; an overview's several questions may straddle
 * a commit (documented in docs/architecture.md).
 */
import type { MessagePort } from 'node:worker_threads';
import { ApiError } from '../api/errors.js';
import { QUERY_METHODS, type ReadStore, type StoreBackend, type StoreQueries } from './store.js';

type Method = (typeof QUERY_METHODS)[number];

export interface QueryRequest {
  id: number;
  method: Method | 'ping';
  args: unknown[];
}

export type QueryReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; status: number; message: string };

/** Runs `fn` (one question's synchronous part, or its reply) charged to the questions' CPU. */
export type QueryCharge = <T>(fn: () => T) => T;

/** Answers questions arriving on `port` from `store`'s read side; `charge` wraps each one's work (the writer's CPU by part). */
export function serveQueries(port: MessagePort, store: ReadStore, charge: QueryCharge = (fn) => fn()): void {
  port.on('message', (req: QueryRequest) => charge(() => answer(port, store, charge, req)));
}

function answer(port: MessagePort, store: ReadStore, charge: QueryCharge, req: QueryRequest): void {
  const reply = (r: QueryReply) => charge(() => port.postMessage(r));
  if (req.method === 'ping') {
    store.ping().then(() => reply({ id: req.id, ok: true, result: null }), (err: Error) => reply({ id: req.id, ok: false, status: 503, message: err.message }));
    return;
  }
  if (!(QUERY_METHODS as readonly string[]).includes(req.method)) {
    reply({ id: req.id, ok: false, status: 500, message: `unknown store question ${String(req.method)}` });
    return;
  }
  store
    .read((q) => (q[req.method as Method] as (...a: unknown[]) => Promise<unknown>).apply(q, req.args))
    .then(
      (result) => reply({ id: req.id, ok: true, result }),
      (err: Error) => reply({ id: req.id, ok: false, status: err instanceof ApiError ? err.status : 500, message: err.message }),
    );
}

/** The reader thread's view of a store served by serveQueries(). */
export function remoteReadStore(port: MessagePort, backend: StoreBackend): ReadStore {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  port.on('message', (r: QueryReply) => {
    const p = pending.get(r.id);
    pending.delete(r.id);
    if (!p) return;
    if (r.ok) p.resolve(r.result);
    else p.reject(r.status === 500 ? new Error(r.message) : new ApiError(r.status, r.message));
  });
  port.on('close', () => {
    for (const [, p] of pending) p.reject(new Error('the store thread stopped'));
    pending.clear();
  });
  const ask = (method: QueryRequest['method'], args: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      port.postMessage({ id, method, args } satisfies QueryRequest);
    });
  const queries = Object.fromEntries(QUERY_METHODS.map((m) => [m, (...args: unknown[]) => ask(m, args)])) as unknown as StoreQueries;
  return {
    backend,
    read: (fn) => fn(queries),
    ping: async () => {
      await ask('ping', []);
    },
    dumpSource: () => {
      throw new Error('a memory store cannot be exported from another thread: it lives in the serving process');
    },
    close: async () => {
      port.close();
    },
  };
}
