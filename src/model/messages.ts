/**
 * Every message that crosses a thread boundary, by name. Front end (main
 * thread) → ingest worker: IngestTask. Ingest worker → front end: IngestResult,
 * WorkerHello. Ingest worker ↔ writer: DeltaBatch (msgpack-encoded, see
 * src/model/delta.ts) and WriterToWorker. Writer → front end: WriterEvent.
 * Front end → writer: WriterCommand. Front end ↔ reader: ReaderRequest/ReaderResponse.
 */
import type { ThreadHeap } from '../util/thread-heap.js';
import type { MirrorStats } from '../mirror/clickhouse.js';
import type { MessagePort } from 'node:worker_threads';
import type { Signal, WireFormat } from './otlp.js';

/** Main → ingest worker (a piscina task). The body's ArrayBuffer is transferred, not copied. */
export interface IngestTask {
  signal: Signal;
  format: WireFormat;
  /** Content-Encoding, lower-cased; '' for none. */
  encoding: string;
  body: ArrayBuffer;
  /**
   * Where the payload starts in `body` (0 when absent). OTLP/gRPC transfers grpc-js's own buffer of the framed
   * message, whose first 5 bytes are the gRPC frame header, rather than copying the message out of it.
   */
  bodyOffset?: number;
  /** Non-zero in durable ack mode: the writer acks it once committed. */
  ackToken: number;
  /** Receive time (unix ms) given by the test clock (--test-clock on); 0: the worker takes Date.now(). */
  receivedAt: number;
}

/** Ingest worker → main: the answer to a task. Errors are returned, not thrown, so piscina keeps the worker. */
export type IngestResult =
  | { ok: true; accepted: number; rejected: number; message: string; /** threadId of the worker holding the deltas. */ worker: number }
  | { ok: false; status: 400 | 413 | 415; code: string; message: string };

/** Ingest worker → main over parentPort, once at start: its end of the writer channel. */
export interface WorkerHello {
  type: 'keytally:worker-port';
  workerId: number;
  port: MessagePort;
}

/** Writer → ingest worker over their channel. */
export type WriterToWorker = { type: 'flush'; id: number };

/** Ingest worker → writer: an encoded DeltaBatch, or the reply to a flush request. */
export interface WorkerToWriter {
  type: 'delta';
  /** msgpack of a DeltaBatch. */
  bytes: Uint8Array;
  /** Set when this batch answers a flush request (shutdown drain). */
  flushId: number;
}

/** Main → writer. */
export type WriterCommand =
  | { type: 'worker-port'; workerId: number; port: MessagePort }
  /** The writer's end of the reader's store channel, for stores whose data lives in the writer (src/store/remote.ts). */
  | { type: 'reader-port'; port: MessagePort }
  | { type: 'drain'; id: number }
  | { type: 'close' };

/** Writer statistics reported to main for /metrics and readiness. */
export interface WriterStats {
  batches: number;
  rows: number;
  commitMsP99: number;
  commitMsLast: number;
  /** Commits since start and their summed duration (cumulative, for a Prometheus summary's _count/_sum). */
  commits: number;
  commitMsSum: number;
  /** Quantiles of the last 1024 commit durations. */
  commitMsP50: number;
  commitMsP90: number;
  lagMsMax: number;
  backlog: number;
  walBytes: number;
  dbBytes: number;
  /** The store's backend and its health, for /metrics (labelled by backend). */
  store: StoreHealth;
  checkpoints: number;
  templates: number;
  keys: number;
  records: { logs: number; metrics: number; traces: number };
  rejected: number;
  truncatedAttributes: number;
  minerEvictions: number;
  minerOverflow: number;
  /** History buckets dropped by retention since start (rows of all levels). */
  historyRowsDropped: number;
  /** The ClickHouse mirror's state, when one is configured. */
  mirror?: MirrorStats;
  /** V8 heaps of the writer (`writer`) and of each ingest worker as of its last batch (`ingest-<threadId>`). */
  heaps: Record<string, ThreadHeap>;
  /** The writer thread's CPU seconds since start by part (src/util/thread-cpu.ts; all 0 off Linux). */
  cpu: WriterCpu;
}

/** What the writer thread spent its CPU on: folding batches, committing (and the store's housekeeping), answering a local reader, the rest. */
export interface WriterCpu {
  merge: number;
  commit: number;
  query: number;
  other: number;
}

export interface StoreHealth {
  backend: string;
  /** Failed commits since start (each one retried or fatal). */
  errors: number;
  /** Rows the store dropped to stay within its bound (memory store). */
  evictions: number;
  /** Times the store connection was re-established. */
  reconnects: number;
}

/** Writer → main. */
export type WriterEvent =
  | { type: 'ready'; salt: string }
  | { type: 'acks'; tokens: number[] }
  | { type: 'stats'; stats: WriterStats }
  | { type: 'drained'; id: number }
  | { type: 'closed' }
  /** A worker's channel closed (the thread died): its unflushed deltas, and the acks in them, are gone. */
  | { type: 'worker-gone'; workerId: number }
  | { type: 'fatal'; message: string }
  /** The store became unavailable (commits fail and are retried) or available again. */
  | { type: 'store'; available: boolean; reason: string };

/** Main → reader. */
export interface ReaderRequest {
  id: number;
  path: string;
  query: string;
}

/** Reader → main, unasked, every few seconds. */
export interface ReaderHeap {
  type: 'heap';
  heap: ThreadHeap;
  /** The store questions answered so far (API requests), for /metrics. */
  queries: ReaderQueryStats;
}

export interface ReaderQueryStats {
  count: number;
  msSum: number;
  /** Quantiles of the last 1024 request durations. */
  msP50: number;
  msP90: number;
  msP99: number;
  /** Requests the store failed (5xx, store unreachable). */
  errors: number;
}

/** Reader → main. */
export interface ReaderResponse {
  id: number;
  status: number;
  body: string;
}
