/**
 * The main thread's view of the pipeline: the writer thread, the Piscina pool
 * of ingest workers, the reader thread. It hands tasks to the pool, tracks
 * in-flight bytes for backpressure, resolves durable acks, and shuts the
 * whole thing down in order.
 */
import { MessageChannel, Worker, type MessagePort, type TransferListItem } from 'node:worker_threads';
import { EventEmitter, once } from 'node:events';
import { Piscina } from 'piscina';
import type { Config } from '../config.js';
import type {
  IngestResult,
  IngestTask,
  ReaderHeap,
  ReaderQueryStats,
  ReaderRequest,
  ReaderResponse,
  WorkerHello,
  WriterCommand,
  WriterEvent,
  WriterStats,
} from '../model/messages.js';
import type { Logger } from '../util/log.js';
import type { ThreadHeap } from '../util/thread-heap.js';
import { MemoryLimiter } from './memory-limiter.js';

const WRITER_FILE = new URL('../../workers/writer.js', import.meta.url);
const INGEST_FILE = new URL('../../workers/ingest.js', import.meta.url);
const READER_FILE = new URL('../../workers/reader.js', import.meta.url);
/**
 * Memory one body byte may take while its request is in flight: the body (moved, not copied, to
 * the worker) plus the worker's transient heap while it decodes and folds it.
 */
const REQUEST_COST_FACTOR = 6;
/** gzip of OTLP logs: 9.4x in the overload bench, 5-8x for the load bench's mix; the limiter assumes 8. */
const ASSUMED_COMPRESSION_RATIO = 8;

/** Tasks a worker holds at once (see the pool's options): one running, one waiting in its port. */
const TASKS_PER_WORKER = 2;

const isCompressed = (encoding: string) => encoding !== '' && encoding !== 'identity';
/** RSS sampling period of the memory limiter: 2 MB requests arrive at about 1 GB/s on loopback, so ~20 MB per sample. */
const MEMORY_SAMPLE_MS = 20;

/**
 * Admission's answer. A refusal says whether a retry can help soon (429: too much in flight or
 * over the soft memory limit) or later (503: writer down or behind, over the hard memory limit,
 * shutting down), and after how many seconds (`Retry-After`, gRPC RetryInfo). Each protocol maps
 * it: OTLP/HTTP to the status code, gRPC to RESOURCE_EXHAUSTED / UNAVAILABLE.
 */
export type Admission = { ok: true } | { ok: false; status: 429 | 503; reason: string; retryAfterS: number };

/**
 * Memory reserved for a request between its admission and its end (see MemoryLimiter). OTLP/HTTP
 * admits on the headers and takes a hold before reading the body, so that the bodies of many
 * requests admitted at once count before they arrive; `ingest(task, hold)` releases it when the
 * request is done. A caller that has the whole body already (gRPC) calls `ingest(task)` without
 * one, and ingest holds the body's cost itself.
 */
export interface MemoryHold {
  /** Sets the reservation to what `bytes` costs (the body turned out smaller than declared). */
  resize(bytes: number): void;
  /** Gives the reservation back; idempotent. */
  release(): void;
}

/** Retry-After for refusals that clear as soon as requests in flight finish (429). */
const RETRY_SOON_S = 1;
/** Retry-After when the writer is behind or memory is over the hard limit (503): give it time. */
const RETRY_LATER_S = 2;

export class Pipeline extends EventEmitter {
  private writer!: Worker;
  private reader!: Worker;
  private pool!: Piscina;
  private inflightBytes = 0;
  private inflightTasks = 0;
  private nextAck = 1;
  private readonly acks = new Map<number, { resolve: () => void; reject: (e: Error) => void; worker: number }>();
  private nextQuery = 1;
  private readonly queries = new Map<number, (r: ReaderResponse) => void>();
  /** Requests waiting for room in the worker queue, oldest first (see queueSlot). */
  private readonly waiting: Array<{ resolve: () => void; timer: NodeJS.Timeout }> = [];
  private writerAlive = false;
  private writerFatal = '';
  /** Why the store cannot take commits now ('' while it can): ingest answers 503 and /ready fails meanwhile. */
  private storeDown = '';
  private connectedWorkers = 0;
  private stopping = false;
  private shutdownPromise: Promise<void> | undefined;
  latestStats: WriterStats | undefined;
  /** The reader thread's heap as of its last report (every 2 s). */
  readerHeap: ThreadHeap | undefined;
  /** The reader thread's store question totals as of its last report (since that reader thread started). */
  readerQueries: ReaderQueryStats | undefined;
  workerRestarts = 0;
  readonly memory: MemoryLimiter;

  constructor(
    readonly config: Config,
    private readonly log: Logger,
  ) {
    super();
    this.memory = new MemoryLimiter({
      limitBytes: config.memoryLimitMb > 0 ? config.memoryLimitMb * 1024 * 1024 : Number.MAX_SAFE_INTEGER,
      softFraction: config.memorySoftPercent / 100,
      costFactor: REQUEST_COST_FACTOR,
      compressedCostFactor: REQUEST_COST_FACTOR * ASSUMED_COMPRESSION_RATIO,
      sampleMs: MEMORY_SAMPLE_MS,
    });
  }

  async start(): Promise<void> {
    this.writer = new Worker(WRITER_FILE, { workerData: { config: this.config }, resourceLimits: { maxYoungGenerationSizeMb: this.config.youngGenerationMb } });
    this.writer.on('message', (e: WriterEvent) => this.onWriterEvent(e));
    this.writer.on('error', (err) => {
      this.writerFatal = `writer thread failed: ${err.message}`;
      this.log.error({ err }, 'writer thread failed');
    });
    this.writer.on('exit', () => {
      this.writerAlive = false;
      for (const [, p] of this.acks) p.reject(new Error('writer stopped'));
      this.acks.clear();
    });
    const [ready] = (await Promise.race([
      once(this.writer, 'message'),
      once(this.writer, 'error').then(([err]) => {
        throw new Error(`writer failed to start: ${(err as Error).message}`);
      }),
    ])) as [WriterEvent];
    if (ready.type !== 'ready') throw new Error(`writer failed to start: ${JSON.stringify(ready)}`);
    this.writerAlive = true;

    this.pool = new Piscina({
      filename: INGEST_FILE.href,
      minThreads: this.config.workers,
      maxThreads: this.config.workers,
      maxQueue: this.config.maxQueue,
      // Two tasks per worker: the next request is already in the worker's port when it finishes one, instead of the worker
      // idling until the main thread has taken its answer and sent the next. `npm run bench -- --duration 6` on a quiet
      // machine (the server's threads and the load generator on 2 cores): 409,858 → 460,354 committed records/s.
      concurrentTasksPerWorker: TASKS_PER_WORKER,
      // Our workers flush on timers and ports; piscina's Atomics.wait would block their event loop while idle.
      atomics: 'disabled',
      // A worker holds an unflushed delta map: never retire it for being idle.
      idleTimeout: 2 ** 31 - 1,
      workerData: { config: this.config, salt: ready.salt },
      resourceLimits: { maxYoungGenerationSizeMb: this.config.youngGenerationMb },
    });
    const allConnected = new Promise<void>((resolve) => {
      this.pool.on('message', (m: WorkerHello) => {
        if (m?.type !== 'keytally:worker-port') return;
        this.connectedWorkers++;
        if (this.connectedWorkers > this.config.workers) this.workerRestarts++;
        this.sendWriter({ type: 'worker-port', workerId: m.workerId, port: m.port }, [m.port]);
        if (this.connectedWorkers >= this.config.workers) resolve();
      });
    });
    this.pool.on('error', (err: Error) => this.log.error({ err }, 'ingest worker failed'));
    await allConnected;

    this.startReader();
    await once(this.reader, 'online');
    this.memory.start();
  }

  /** The reader thread; a reader that dies answers its pending queries with 503 and is started again. */
  private startReader(): void {
    // A store whose data lives in the writer thread (memory) is read through a port to the writer.
    let storePort: MessagePort | undefined;
    if (this.config.store === 'memory') {
      const channel = new MessageChannel();
      this.sendWriter({ type: 'reader-port', port: channel.port1 }, [channel.port1]);
      storePort = channel.port2;
    }
    const reader = new Worker(READER_FILE, {
      workerData: { config: this.config, storePort },
      transferList: storePort ? [storePort] : [],
      resourceLimits: { maxYoungGenerationSizeMb: this.config.youngGenerationMb },
    });
    this.reader = reader;
    reader.on('message', (r: ReaderResponse | ReaderHeap) => {
      if ('type' in r) {
        this.readerHeap = r.heap;
        this.readerQueries = r.queries;
        return;
      }
      const cb = this.queries.get(r.id);
      this.queries.delete(r.id);
      cb?.(r);
    });
    reader.on('error', (err) => this.log.error({ err }, 'reader thread failed'));
    reader.on('exit', () => {
      for (const [id, cb] of this.queries) cb({ id, status: 503, body: JSON.stringify({ error: 'the query thread stopped; retry' }) });
      this.queries.clear();
      if (!this.stopping) this.startReader();
    });
  }

  private sendWriter(cmd: WriterCommand, transfer?: TransferListItem[]): void {
    this.writer.postMessage(cmd, transfer);
  }

  private onWriterEvent(e: WriterEvent): void {
    switch (e.type) {
      case 'acks':
        for (const t of e.tokens) {
          this.acks.get(t)?.resolve();
          this.acks.delete(t);
        }
        break;
      case 'stats':
        this.latestStats = e.stats;
        this.emit('stats', e.stats);
        break;
      case 'worker-gone':
        for (const [token, p] of this.acks) {
          if (p.worker === e.workerId) {
            p.reject(new Error('the worker holding this request died before its deltas were committed; retry'));
            this.acks.delete(token);
          }
        }
        break;
      case 'fatal':
        this.writerFatal = e.message;
        this.log.error(e.message);
        break;
      case 'store':
        this.storeDown = e.available ? '' : e.reason;
        if (e.available) this.log.warn('store available again');
        else this.log.error(e.reason);
        break;
      default:
        this.emit(e.type, e);
    }
  }

  /**
   * Whether a request of `bytes` may enter now; otherwise the status to answer (DESIGN §5). Checks
   * only: the memory it will take is held by `hold()` or by `ingest()`.
   */
  admit(bytes: number, encoding = ''): Admission {
    if (this.stopping) return { ok: false, status: 503, reason: 'shutting down', retryAfterS: RETRY_LATER_S };
    if (!this.writerAlive || this.writerFatal !== '') return { ok: false, status: 503, reason: 'writer unavailable', retryAfterS: RETRY_LATER_S };
    if (this.storeDown !== '') return { ok: false, status: 503, reason: this.storeDown, retryAfterS: RETRY_LATER_S };
    if ((this.latestStats?.backlog ?? 0) > this.config.maxWriterBacklog) return { ok: false, status: 503, reason: 'writer is behind', retryAfterS: RETRY_LATER_S };
    const mem = this.memory.admit(bytes, isCompressed(encoding));
    if (mem === 'hard') return { ok: false, status: 503, reason: `memory over the hard limit (--memory-limit-mb ${this.config.memoryLimitMb})`, retryAfterS: RETRY_LATER_S };
    if (mem === 'soft') return { ok: false, status: 429, reason: `memory at the soft limit (${this.config.memorySoftPercent}% of --memory-limit-mb ${this.config.memoryLimitMb})`, retryAfterS: RETRY_SOON_S };
    if (this.inflightBytes + bytes > this.config.maxInflightBytes) return { ok: false, status: 429, reason: 'too many bytes in flight', retryAfterS: RETRY_SOON_S };
    // The worker queue being full is not refused here: the request waits its turn in ingest() (FIFO, bounded in time).
    return { ok: true };
  }

  /** Reserves what a request of `bytes` costs in memory until it is released (see MemoryHold). */
  hold(bytes: number, encoding = ''): MemoryHold {
    const memory = this.memory;
    const compressed = isCompressed(encoding);
    let cost = memory.cost(bytes, compressed);
    memory.reserve(cost);
    return {
      resize(b: number) {
        if (cost < 0) return;
        const next = memory.cost(b, compressed);
        memory.reserve(next - cost);
        cost = next;
      },
      release() {
        if (cost < 0) return;
        memory.release(cost);
        cost = -1;
      },
    };
  }

  /**
   * Runs one request through a worker. In durable mode the promise resolves
   * only once the writer has committed the request's deltas.
   */
  async ingest(task: Omit<IngestTask, 'ackToken' | 'receivedAt'> & { receivedAt?: number }, held?: MemoryHold): Promise<IngestResult> {
    const bytes = task.body.byteLength;
    const memoryHold = held ?? this.hold(bytes, task.encoding);
    const durable = this.config.ack === 'durable';
    const ackToken = durable ? this.nextAck++ : 0;
    let committed: Promise<void> | undefined;
    if (durable) {
      committed = new Promise<void>((resolve, reject) => this.acks.set(ackToken, { resolve, reject, worker: 0 }));
      // Rejected only if the writer dies; handled by the await below.
      committed.catch(() => undefined);
    }
    this.inflightBytes += bytes;
    this.inflightTasks++;
    try {
      await this.queueSlot();
      const result = (await this.pool.run({ ...task, receivedAt: task.receivedAt ?? 0, ackToken } satisfies IngestTask, { transferList: [task.body] })) as IngestResult;
      if (!result.ok || !committed) {
        this.acks.delete(ackToken);
        return result;
      }
      const pending = this.acks.get(ackToken);
      // Remember which worker holds the deltas: if it dies before flushing, this request must fail (retryably).
      if (pending) pending.worker = result.worker;
      // The worker folded the request (its ack token rides in the delta); wait for the commit.
      await committed;
      return result;
    } finally {
      this.wakeWaiter();
      memoryHold.release();
      this.inflightBytes -= bytes;
      this.inflightTasks--;
      if (this.inflightTasks === 0) this.emit('idle');
    }
  }

  /**
   * Resolves when the worker queue has room for one more task. Requests that find it full wait in arrival
   * order (their bodies are read and held by the memory limiter) for up to --queue-wait-ms, then fail with
   * "worker queue is full" (429). Why wait rather than refuse at once: under a sustained overload, a refused
   * client retries after Retry-After, but the clients that were let in send their next request the moment
   * theirs is answered and take the freed place first; the refused ones starved, and the OpenTelemetry SDK
   * dropped their batches after its last retry (1,212-1,400 of 60,160 records in sdk-overload.test.ts). In
   * arrival order every client gets its turn.
   */
  private queueSlot(): Promise<void> {
    if (this.waiting.length === 0 && this.pool.queueSize < this.config.maxQueue) return Promise.resolve();
    const waitMs = this.config.queueWaitMs;
    if (waitMs === 0) return Promise.reject(new Error('worker queue is full'));
    return new Promise<void>((resolve, reject) => {
      const entry = {
        resolve: () => {
          clearTimeout(entry.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new Error(`worker queue is full (waited ${waitMs} ms)`));
        }, waitMs),
      };
      this.waiting.push(entry);
    });
  }

  /** One task ended: the worker that ran it takes the next queued one, so one waiting request may enter. */
  private wakeWaiter(): void {
    if (this.waiting.length > 0 && this.pool.queueSize < this.config.maxQueue) this.waiting.shift()!.resolve();
  }

  /** Runs an API query on the reader thread. */
  query(path: string, query: string): Promise<ReaderResponse> {
    const id = this.nextQuery++;
    return new Promise((resolve) => {
      this.queries.set(id, resolve);
      this.reader.postMessage({ id, path, query } satisfies ReaderRequest);
    });
  }

  ready(): { ready: boolean; reason: string } {
    if (this.stopping) return { ready: false, reason: 'shutting down' };
    if (!this.writerAlive) return { ready: false, reason: 'writer is not running' };
    if (this.writerFatal) return { ready: false, reason: this.writerFatal };
    if (this.storeDown) return { ready: false, reason: this.storeDown };
    if (this.pool.threads.length === 0) return { ready: false, reason: 'no ingest workers' };
    return { ready: true, reason: '' };
  }

  /** Cheap counters only: piscina's histogram getters build whole summaries, so they live in poolTimings() and poolUtilization(). */
  poolStats(): { queueSize: number; inflightBytes: number; inflightTasks: number; threads: number } {
    return {
      queueSize: this.pool.queueSize,
      inflightBytes: this.inflightBytes,
      inflightTasks: this.inflightTasks,
      threads: this.pool.threads.length,
    };
  }

  /**
   * Piscina's utilization since start: its getter builds the run time histogram's whole summary (sixteen percentiles
   * and a standard deviation), which poolStats() did for each of the five gauges that read it: 7 % of the main
   * thread's CPU in a profile of `npm run bench` (its monitor scrapes /metrics every second).
   */
  poolUtilization(): number {
    return this.pool.utilization;
  }

  /** Piscina's task wait and run time histograms (milliseconds) and tasks completed, for /metrics. */
  poolTimings(): { wait: Piscina['histogram']['waitTime']; run: Piscina['histogram']['runTime']; completed: number } {
    return { wait: this.pool.histogram.waitTime, run: this.pool.histogram.runTime, completed: this.pool.completed };
  }

  /**
   * Stops intake (the caller has closed the listeners), waits for the tasks
   * in flight, drains every worker's delta map into the writer, commits,
   * checkpoints and closes. Safe to call twice.
   */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  private async doShutdown(): Promise<void> {
    this.stopping = true;
    this.memory.stop();
    if (this.inflightTasks > 0) await once(this, 'idle');
    if (this.writerAlive) {
      const id = this.nextQuery++;
      const drained = new Promise<void>((resolve) => {
        const on = (e: { id: number }) => {
          if (e.id === id) {
            this.off('drained', on);
            resolve();
          }
        };
        this.on('drained', on);
      });
      this.sendWriter({ type: 'drain', id });
      await drained;
    }
    await this.pool.destroy();
    await this.reader.terminate();
    if (this.writerAlive) {
      const closed = once(this, 'closed');
      this.sendWriter({ type: 'close' });
      await closed;
    }
    await this.writer.terminate().catch(() => undefined);
  }
}
