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

const WRITER_FILE = new URL('../../workers/writer.js', import.meta.url);
const INGEST_FILE = new URL('../../workers/ingest.js', import.meta.url);
const READER_FILE = new URL('../../workers/reader.js', import.meta.url);

export type Admission = { ok: true } | { ok: false; status: 429 | 503; reason: string };

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
  private writerAlive = false;
  private writerFatal = '';
  private connectedWorkers = 0;
  private stopping = false;
  private shutdownPromise: Promise<void> | undefined;
  latestStats: WriterStats | undefined;
  /** The reader thread's heap as of its last report (every 2 s). */
  readerHeap: ThreadHeap | undefined;
  /** The reader thread's store question totals as of its last report (since that reader thread started). */
  readerQueries: ReaderQueryStats | undefined;
  workerRestarts = 0;

  constructor(
    readonly config: Config,
    private readonly log: Logger,
  ) {
    super();
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
      default:
        this.emit(e.type, e);
    }
  }

  /** Whether a request of `bytes` may enter now; otherwise the status to answer (DESIGN §5). */
  admit(bytes: number): Admission {
    if (this.stopping) return { ok: false, status: 503, reason: 'shutting down' };
    if (!this.writerAlive || this.writerFatal !== '') return { ok: false, status: 503, reason: 'writer unavailable' };
    if ((this.latestStats?.backlog ?? 0) > this.config.maxWriterBacklog) return { ok: false, status: 503, reason: 'writer is behind' };
    if (this.inflightBytes + bytes > this.config.maxInflightBytes) return { ok: false, status: 429, reason: 'too many bytes in flight' };
    if (this.pool.queueSize >= this.config.maxQueue) return { ok: false, status: 429, reason: 'worker queue is full' };
    return { ok: true };
  }

  /**
   * Runs one request through a worker. In durable mode the promise resolves
   * only once the writer has committed the request's deltas.
   */
  async ingest(task: Omit<IngestTask, 'ackToken' | 'receivedAt'> & { receivedAt?: number }): Promise<IngestResult> {
    const bytes = task.body.byteLength;
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
      this.inflightBytes -= bytes;
      this.inflightTasks--;
      if (this.inflightTasks === 0) this.emit('idle');
    }
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
    if (this.pool.threads.length === 0) return { ready: false, reason: 'no ingest workers' };
    return { ready: true, reason: '' };
  }

  /** Cheap counters only: piscina's histogram getters build whole summaries, so they live in poolTimings(). */
  poolStats(): { queueSize: number; inflightBytes: number; inflightTasks: number; threads: number; utilization: number } {
    return {
      queueSize: this.pool.queueSize,
      inflightBytes: this.inflightBytes,
      inflightTasks: this.inflightTasks,
      threads: this.pool.threads.length,
      utilization: this.pool.utilization,
    };
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
