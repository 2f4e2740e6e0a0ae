/**
 * The writer thread: owns the one write connection. Decodes worker deltas,
 * folds them into the mirror (templates reconciled by the canonical miners),
 * commits everything that arrived in one transaction every commitMs, acks
 * durable requests after the commit, and keeps the WAL bounded.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Unpackr } from 'msgpackr';
import type { Config } from '../src/config.js';
import type { DeltaBatch } from '../src/model/delta.js';
import type { WorkerToWriter, WriterCommand, WriterEvent, WriterStats } from '../src/model/messages.js';
import { migrateSqlite } from '../src/store/migrations.js';
import { dbPath, SqliteWriteStore } from '../src/store/sqlite-store.js';
import { WriterState } from '../src/writer/state.js';
import { LatencyWindow } from '../src/util/latency-window.js';
import { mkdirSync } from 'node:fs';
import { startHeapTrace } from '../src/util/heap-trace.js';
import { releaseBuffer } from '../src/util/release.js';
import { threadHeap, type ThreadHeap } from '../src/util/thread-heap.js';

const { config } = workerData as { config: Config };
const post = (e: WriterEvent) => parentPort!.postMessage(e);

mkdirSync(config.data, { recursive: true });
await migrateSqlite(dbPath(config.data));
const store = new SqliteWriteStore(config.data, config);
const salt = store.salt();
const state = new WriterState(config, store.loader());
store.load(state);
startHeapTrace('writer', () => ({ sketchMb: +(state.sketchBytes() / 1048576).toFixed(1), keyRows: state.keys.rows.size }));

const unpackr = new Unpackr({ useRecords: true, moreTypes: false });
const ports = new Map<number, MessagePort>();
const commitLatency = new LatencyWindow(1024);
const stats: WriterStats = {
  batches: 0, rows: 0, commitMsP99: 0, commitMsLast: 0, commits: 0, commitMsSum: 0, commitMsP50: 0, commitMsP90: 0, lagMsMax: 0, backlog: 0, walBytes: 0, dbBytes: 0,
  checkpoints: 0, templates: 0, keys: 0, records: { logs: 0, metrics: 0, traces: 0 }, rejected: 0,
  truncatedAttributes: 0, minerEvictions: 0, minerOverflow: 0, heaps: {},
};
/** Each ingest worker's heap as of its last batch; dropped when its channel closes. */
const workerHeaps = new Map<number, ThreadHeap>();
/** Receive time of the oldest batch not yet committed (for writer lag). */
let oldestPending = 0;
let commitTimer: NodeJS.Timeout | undefined;
/** When the scheduled commit runs (ms since epoch). */
let commitDue = 0;
/** A batch that carries durable acks is committed this soon: a client waits on it. Other batches wait commitMs, to group more. */
const ACK_COMMIT_MS = 2;
let closed = false;
/** Open drain: the flush replies still awaited. */
let drain: { id: number; waiting: Set<number>; timer: NodeJS.Timeout } | undefined;

function onDelta(workerId: number, msg: WorkerToWriter): void {
  const batch = unpackr.unpack(msg.bytes) as DeltaBatch;
  state.applyBatch(batch);
  // The batch's sketch bytes may be views of the message: applyBatch merged them, nothing keeps them.
  releaseBuffer(msg.bytes.buffer);
  stats.batches++;
  stats.backlog++;
  stats.rejected += batch.counters.rejected;
  stats.truncatedAttributes += batch.counters.truncatedAttributes;
  stats.minerEvictions += batch.counters.minerEvictions;
  stats.minerOverflow += batch.counters.minerOverflow;
  if (batch.heap) workerHeaps.set(workerId, batch.heap);
  if (oldestPending === 0) oldestPending = Date.now();
  if (msg.flushId !== 0 && drain && drain.id === msg.flushId) {
    drain.waiting.delete(workerId);
    if (drain.waiting.size === 0) finishDrain();
    return;
  }
  const delay = batch.acks.length > 0 ? Math.min(ACK_COMMIT_MS, config.commitMs) : config.commitMs;
  const due = Date.now() + delay;
  if (!commitTimer || due < commitDue) {
    if (commitTimer) clearTimeout(commitTimer);
    commitTimer = setTimeout(commit, delay);
    commitDue = due;
  }
}

function commit(): void {
  if (commitTimer) clearTimeout(commitTimer);
  commitTimer = undefined;
  if (closed || !state.hasChanges()) return;
  const t0 = performance.now();
  const changes = state.takeChanges();
  try {
    stats.rows += store.commit(changes);
  } catch (err) {
    // A failed commit is fatal for the writer: the main thread turns unready and answers 503.
    post({ type: 'fatal', message: `commit failed: ${(err as Error).message}` });
    throw err;
  }
  const ms = performance.now() - t0;
  commitLatency.add(ms);
  stats.commitMsLast = ms;
  stats.commits++;
  stats.commitMsSum += ms;
  stats.records.logs += changes.records.logs;
  stats.records.metrics += changes.records.metrics;
  stats.records.traces += changes.records.traces;
  if (oldestPending !== 0) stats.lagMsMax = Math.max(stats.lagMsMax, Date.now() - oldestPending);
  oldestPending = 0;
  stats.backlog = 0;
  if (changes.acks.length > 0) post({ type: 'acks', tokens: changes.acks });
  // Readers can hold the WAL open past the autocheckpoint; once it is past the limit, wait for them and truncate it.
  if (store.walBytes() > config.walLimitMb * 1024 * 1024) {
    store.checkpoint('TRUNCATE');
    stats.checkpoints++;
  }
}

function report(): void {
  const ms = state.minerStats();
  stats.templates = ms.templates;
  stats.keys = state.keyCount;
  stats.walBytes = store.walBytes();
  stats.dbBytes = store.dbBytes();
  stats.commitMsP50 = commitLatency.quantile(0.5);
  stats.commitMsP90 = commitLatency.quantile(0.9);
  stats.commitMsP99 = commitLatency.quantile(0.99);
  // A batch still waiting counts too: a stalled writer shows a growing lag, not 0.
  if (oldestPending !== 0) stats.lagMsMax = Math.max(stats.lagMsMax, Date.now() - oldestPending);
  stats.heaps = { writer: threadHeap() };
  for (const [id, heap] of workerHeaps) stats.heaps[`ingest-${id}`] = heap;
  post({ type: 'stats', stats: { ...stats, records: { ...stats.records } } });
  stats.lagMsMax = 0;
}
const statsTimer = setInterval(report, 1000);

function finishDrain(): void {
  if (!drain) return;
  clearTimeout(drain.timer);
  const id = drain.id;
  drain = undefined;
  commit();
  store.checkpoint('TRUNCATE');
  stats.checkpoints++;
  report();
  post({ type: 'drained', id });
}

parentPort!.on('message', (cmd: WriterCommand) => {
  switch (cmd.type) {
    case 'worker-port': {
      const { workerId, port } = cmd;
      ports.set(workerId, port);
      port.on('message', (m: WorkerToWriter) => onDelta(workerId, m));
      // A worker that died can send no more; a drain must not wait for it.
      port.on('close', () => {
        ports.delete(workerId);
        workerHeaps.delete(workerId);
        // Commit first: the acks of every batch this worker did deliver must reach main before the news
        // that the rest of its requests are lost, or main would fail requests that are in fact stored.
        if (!closed) {
          commit();
          post({ type: 'worker-gone', workerId });
        }
        if (drain?.waiting.delete(workerId) && drain.waiting.size === 0) finishDrain();
      });
      break;
    }
    case 'drain': {
      const waiting = new Set(ports.keys());
      // A worker that does not answer in time must not hold shutdown for ever.
      const timer = setTimeout(finishDrain, 10_000);
      drain = { id: cmd.id, waiting, timer };
      if (waiting.size === 0) finishDrain();
      for (const [, port] of ports) port.postMessage({ type: 'flush', id: cmd.id });
      break;
    }
    case 'close': {
      commit();
      closed = true;
      clearInterval(statsTimer);
      store.close();
      for (const [, port] of ports) port.close();
      post({ type: 'closed' });
      parentPort!.close();
      break;
    }
  }
});

post({ type: 'ready', salt: salt.toString() });
