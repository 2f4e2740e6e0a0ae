/**
 * The writer thread: owns the store's write side (src/store/store.ts).
 * Decodes worker deltas, folds them into the mirror (templates reconciled by
 * the canonical miners), commits everything that arrived in one transaction
 * every commitMs, acks durable requests after the commit, and runs the
 * store's maintenance (SQLite: keeps the WAL bounded). For a store whose data
 * lives here (memory), it also answers the reader's questions between commits.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Unpackr } from 'msgpackr';
import type { Config } from '../src/config.js';
import type { DeltaBatch } from '../src/model/delta.js';
import type { WorkerToWriter, WriterCommand, WriterCpu, WriterEvent, WriterStats } from '../src/model/messages.js';
import { openWriteStore } from '../src/store/store.js';
import type { Retention } from '../src/store/history.js';
import { ClickHouseMirror } from '../src/mirror/clickhouse.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/model/history.js';
import { serveQueries } from '../src/store/remote.js';
import { WriterState, type ChangeSet } from '../src/writer/state.js';
import { LatencyWindow } from '../src/util/latency-window.js';
import { startHeapTrace } from '../src/util/heap-trace.js';
import { releaseBuffer } from '../src/util/release.js';
import { threadHeap, type ThreadHeap } from '../src/util/thread-heap.js';
import { CpuParts } from '../src/util/thread-cpu.js';

const { config } = workerData as { config: Config };
/** This thread's CPU by part (/metrics: keytally_writer_cpu_seconds_total): what the workers do not get of the cores. */
const cpu = new CpuParts<keyof WriterCpu>(['merge', 'commit', 'query', 'other'], 'other');
const post = (e: WriterEvent) => parentPort!.postMessage(e);

const store = await openWriteStore(config);
const salt = await store.salt(config.hashSalt === undefined ? undefined : BigInt(config.hashSalt));
const state = new WriterState(config, store.loader());
await store.load(state);
startHeapTrace('writer', () => ({ sketchMb: +(state.sketchBytes() / 1048576).toFixed(1), keyRows: state.keys.rows.size }));

/** The ClickHouse mirror of the history, when --clickhouse-url is set: fed after each commit, sends on its own. */
const mirror = config.clickhouseUrl
  ? new ClickHouseMirror(
      {
        url: config.clickhouseUrl,
        database: config.clickhouseDatabase,
        bufferRows: config.clickhouseBufferRows,
        flushMs: config.clickhouseFlushMs,
        minuteRetentionMs: config.clickhouseMinuteDays * DAY_MS,
        hourRetentionMs: config.clickhouseHourDays * DAY_MS,
        now: () => historyNow(),
        // The test clock jumps days in seconds: check partitions at every round then.
        retentionEveryMs: config.testClock === 'on' ? 0 : 60_000,
      },
      { historyPage: (level, from, limit, after) => store.historyPage(level, from, limit, after) },
    )
  : undefined;
if (mirror) {
  store.trackHistoryTotals();
  mirror.start();
}

const unpackr = new Unpackr({ useRecords: true, moreTypes: false });
const ports = new Map<number, MessagePort>();
const commitLatency = new LatencyWindow(1024);
const stats: WriterStats = {
  batches: 0, rows: 0, commitMsP99: 0, commitMsLast: 0, commits: 0, commitMsSum: 0, commitMsP50: 0, commitMsP90: 0, lagMsMax: 0, backlog: 0, walBytes: 0, dbBytes: 0,
  checkpoints: 0, templates: 0, keys: 0, records: { logs: 0, metrics: 0, traces: 0 }, rejected: 0,
  truncatedAttributes: 0, minerEvictions: 0, minerOverflow: 0, historyRowsDropped: 0, heaps: {},
  store: { backend: store.backend, errors: 0, evictions: 0, reconnects: 0 },
  cpu: { merge: 0, commit: 0, query: 0, other: 0 },
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
/**
 * Without durable acks waiting, commits are at least this many times their own last duration apart (and at least
 * commitMs): a commit's cost is the rows it touches, which under load is about the same set whatever the interval, so
 * spacing them keeps the writer's share of the CPU at about 1 / (1 + COMMIT_SPACING) instead of growing with load.
 * Measured: at ~340k records/s a commit upserted ~9,000 rows in 60-110 ms, every 100 ms — the writer took ~0.4
 * core of the machine's 2, which the ingest workers needed.
 */
const COMMIT_SPACING = 3;

/** When the next commit of batches without acks is due: commitMs, or longer after a long commit. */
function commitDelay(): number {
  return Math.max(config.commitMs, Math.ceil(COMMIT_SPACING * stats.commitMsLast));
}
/** Backoff between attempts to commit to a store that is unavailable (PostgreSQL stopped or unreachable). */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;
let closed = false;
/** Open drain: the flush replies still awaited. */
let drain: { id: number; waiting: Set<number>; timer: NodeJS.Timeout } | undefined;

function onDelta(workerId: number, msg: WorkerToWriter): void {
  const was = cpu.switchTo('merge');
  try {
    fold(workerId, msg);
  } finally {
    cpu.switchTo(was);
  }
}

function fold(workerId: number, msg: WorkerToWriter): void {
  const batch = unpackr.unpack(msg.bytes) as DeltaBatch;
  if (batch.minute > latestMinute) latestMinute = batch.minute;
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
  const delay = batch.acks.length > 0 ? Math.min(ACK_COMMIT_MS, config.commitMs) : commitDelay();
  const due = Date.now() + delay;
  if (!commitTimer || due < commitDue) {
    if (commitTimer) clearTimeout(commitTimer);
    commitTimer = setTimeout(commit, delay);
    commitDue = due;
  }
}

/**
 * Commits run one after another (a store's commit may be asynchronous): a
 * commit asked for while one runs is chained behind it. The promise resolves
 * once everything taken so far is committed.
 */
let commitChain: Promise<void> = Promise.resolve();

function commit(): Promise<void> {
  if (commitTimer) clearTimeout(commitTimer);
  commitTimer = undefined;
  commitChain = commitChain.then(commitNow).catch(fail);
  return commitChain;
}

/** A failed commit is fatal for the writer: the main thread turns unready and answers 503. */
function fail(err: unknown): never {
  stats.store.errors++;
  post({ type: 'fatal', message: `commit failed: ${(err as Error).message}` });
  // Thrown outside the promise chain, so the thread fails as a synchronous commit error did.
  setImmediate(() => {
    throw err;
  });
  throw err;
}

/** A ChangeSet taken from the mirror whose commit has not succeeded yet (the store was unavailable). */
let pending: ChangeSet | undefined;
/** Why the store is unavailable, while it is. */
let storeDown: string | undefined;
let retryTimer: NodeJS.Timeout | undefined;
let retryMs = RETRY_MIN_MS;

/** A commit and the housekeeping after it, its CPU charged to `commit` (what runs between its awaits included, see CpuParts). */
async function commitNow(): Promise<void> {
  cpu.switchTo('commit');
  try {
    await commitAndMaintain();
  } finally {
    cpu.switchTo('other');
  }
}

async function commitAndMaintain(): Promise<void> {
  if (closed) return;
  // While a ChangeSet waits for the store, the mirror keeps folding new batches into its dirty rows
  // (counts add up there), so at most one ChangeSet is ever outstanding.
  if (!pending) {
    if (!state.hasChanges()) return;
    pending = state.takeChanges();
  }
  const changes = pending;
  const t0 = performance.now();
  try {
    stats.rows += await store.commit(changes);
  } catch (err) {
    if (!store.unavailable(err)) throw err;
    stats.store.errors++;
    unavailable((err as Error).message || String((err as { code?: string }).code));
    return;
  }
  pending = undefined;
  if (storeDown !== undefined) {
    storeDown = undefined;
    retryMs = RETRY_MIN_MS;
    stats.store.reconnects++;
    post({ type: 'store', available: true, reason: '' });
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
  // After the commit, never awaited: the mirror sends on its own timer.
  if (mirror) mirror.offer(store.takeHistoryTotals());
  await maintain();
  await retainHistory();
  // What arrived while this commit ran goes next, without waiting for a timer.
  if (state.hasChanges() && !commitTimer) {
    const delay = commitDelay();
    commitTimer = setTimeout(commit, delay);
    commitDue = Date.now() + delay;
  }
}

/** The history's clock ("now" for retention, here and in the mirror). */
function historyNow(): number {
  return config.testClock === 'on' ? latestMinute + MINUTE_MS : Date.now();
}

/** The clock of history: wall time, or with --test-clock the latest receive minute seen (a replayed week). */
let latestMinute = 0;
let lastRetain = 0;
const retention: Retention = {
  minuteMs: config.retentionMinutes * MINUTE_MS,
  hourMs: config.retentionHours * HOUR_MS,
  dayMs: config.retentionDays * DAY_MS,
};

/**
 * Drops expired history buckets between commits: at most once a second
 * (every commit under the test clock, whose time jumps) and for at most
 * 20 ms, so ingest never waits on a long delete; what is left waits for the
 * next round.
 */
async function retainHistory(): Promise<void> {
  const testClock = config.testClock === 'on';
  const wall = Date.now();
  if (!testClock && wall - lastRetain < 1000) return;
  lastRetain = wall;
  const now = historyNow();
  if (now === MINUTE_MS) return;
  stats.historyRowsDropped += await store.retain(now, retention, 20);
  // The series estimates over time live under the same retention flags (their own table, their own 10 ms).
  stats.historyRowsDropped += await store.retainEstimates(now, retention, 10);
}

async function maintainCharged(): Promise<void> {
  cpu.switchTo('commit');
  try {
    await maintain();
  } finally {
    cpu.switchTo('other');
  }
}

/** The store's housekeeping; a store that changed the mirror (templates learnt from other instances) gets a commit. */
async function maintain(): Promise<void> {
  const m = await store.maintain();
  if (m.checkpointed) stats.checkpoints++;
  if (m.changed && !commitTimer && !closed) commitTimer = setTimeout(commit, config.commitMs);
}

/** The store is unreachable: main answers 503 and /ready fails; the same ChangeSet is tried again with backoff. */
function unavailable(reason: string): void {
  if (storeDown === undefined) post({ type: 'store', available: false, reason: `store unavailable: ${reason}` });
  storeDown = reason;
  if (retryTimer) return;
  retryTimer = setTimeout(() => {
    retryTimer = undefined;
    void commit();
  }, retryMs);
  retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
}

function report(): void {
  const ms = state.minerStats();
  stats.templates = ms.templates;
  stats.keys = state.keyCount;
  const size = store.size();
  stats.walBytes = size.walBytes;
  stats.dbBytes = size.bytes;
  stats.store.evictions = store.evictions();
  stats.commitMsP50 = commitLatency.quantile(0.5);
  stats.commitMsP90 = commitLatency.quantile(0.9);
  stats.commitMsP99 = commitLatency.quantile(0.99);
  // A batch still waiting counts too: a stalled writer shows a growing lag, not 0.
  if (oldestPending !== 0) stats.lagMsMax = Math.max(stats.lagMsMax, Date.now() - oldestPending);
  if (mirror) stats.mirror = { ...mirror.stats };
  stats.heaps = { writer: threadHeap() };
  stats.cpu = cpu.seconds();
  for (const [id, heap] of workerHeaps) stats.heaps[`ingest-${id}`] = heap;
  post({ type: 'stats', stats: { ...stats, records: { ...stats.records } } });
  stats.lagMsMax = 0;
}
const statsTimer = setInterval(() => {
  report();
  // Chained behind commits, so housekeeping never runs beside one.
  if (!closed && !storeDown) commitChain = commitChain.then(maintainCharged).catch(fail);
}, 1000);

function finishDrain(): void {
  if (!drain) return;
  clearTimeout(drain.timer);
  const id = drain.id;
  drain = undefined;
  void commit().then(async () => {
    // A draining sidecar gives the mirror one last chance (bounded: a ClickHouse that is down does not hold shutdown).
    if (mirror) await Promise.race([mirror.flush(), new Promise((r) => setTimeout(r, 2000))]);
    await store.checkpoint();
    stats.checkpoints++;
    report();
    post({ type: 'drained', id });
  });
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
        if (!closed) void commit().then(() => post({ type: 'worker-gone', workerId }));
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
    case 'reader-port': {
      const reader = store.localReader();
      if (reader) {
        serveQueries(cmd.port, reader, (fn) => {
          const was = cpu.switchTo('query');
          try {
            return fn();
          } finally {
            cpu.switchTo(was);
          }
        });
      }
      else cmd.port.close();
      break;
    }
    case 'close': {
      void commit().then(async () => {
        closed = true;
        clearInterval(statsTimer);
        await mirror?.close();
        await store.close();
        for (const [, port] of ports) port.close();
        post({ type: 'closed' });
        parentPort!.close();
      });
      break;
    }
  }
});

post({ type: 'ready', salt: salt.toString() });
