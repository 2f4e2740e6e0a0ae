/**
 * Ingest worker (a Piscina task module): decompress, decode, extract and
 * pre-aggregate; flush the delta map to the writer every flushMs or past a
 * size bound, over this worker's own MessageChannel, msgpack-encoded.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { MessageChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import type { Config } from '../src/config.js';
import { decodeRequest } from '../src/decode/index.js';
import { decompress, releaseDecompressed } from '../src/decode/decompress.js';
import { DecodeError, PayloadTooLargeError, UnsupportedEncodingError } from '../src/decode/errors.js';
import { Extractor, type FoldResult } from '../src/extract/extractor.js';
import { streamLogs, streamMetrics, streamTraces } from '../src/decode/otlp-proto.js';
import type { DecodeStats } from '../src/decode/limits.js';
import type { IngestResult, IngestTask, WorkerHello, WorkerToWriter, WriterToWorker } from '../src/model/messages.js';
import { createKeyedHasher } from '../src/sketch/hash.js';
import { flushDelay } from '../src/util/flush-pace.js';
import { startHeapTrace } from '../src/util/heap-trace.js';
import { releaseBuffer } from '../src/util/release.js';
import { threadHeap } from '../src/util/thread-heap.js';

interface IngestWorkerData {
  config: Config;
  salt: string;
}

const { config, salt } = workerData as IngestWorkerData;
startHeapTrace('ingest-' + threadId);
const crashMarker = process.env['KEYTALLY_TEST_CRASH_MARKER'] || undefined;
/**
 * Test only (KEYTALLY_TEST_TASK_MS): every task takes at least this long, the worker blocked as on a slow host, so a
 * test can overload the sidecar by a known factor whatever the machine's speed (test/integration/sdk-overload.test.ts).
 */
const taskFloorMs = Number(process.env['KEYTALLY_TEST_TASK_MS'] ?? 0);
const blocker = taskFloorMs > 0 ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
const hasher = await createKeyedHasher(BigInt(salt));
const extractor = new Extractor(hasher, {
  workerId: threadId,
  precision: config.precision,
  minerMaxClusters: config.minerMaxClusters,
  minerMaxLineLength: config.minerMaxLineLength,
});
/** Log record, span and span event attribute values of protobuf requests are hashed from the request's bytes. */
const hashBytes = (utf8: Uint8Array, out: Uint32Array) => hasher.hashBytes(utf8, out);
const packr = new Packr({ useRecords: true, moreTypes: false });

// Our end of the channel to the writer; the other end goes to the writer through the main thread.
const channel = new MessageChannel();
const toWriter = channel.port1;
parentPort!.postMessage({ type: 'keytally:worker-port', workerId: threadId, port: channel.port2 } satisfies WorkerHello, [channel.port2]);

function flush(flushId: number): void {
  if (flushId === 0 && extractor.isEmpty()) return;
  const batch = extractor.flush();
  batch.heap = threadHeap();
  // pack() returns a view into msgpackr's reusable buffer: copy before transferring.
  const bytes = packr.pack(batch).slice();
  Extractor.releaseBatch(batch);
  const msg: WorkerToWriter = { type: 'delta', bytes, flushId };
  toWriter.postMessage(msg, [bytes.buffer]);
}

toWriter.on('message', (m: WriterToWorker) => {
  if (m.type === 'flush') flush(m.id);
});

let ackFlushScheduled = false;
/**
 * The timed flush, paced by how busy this worker was since the last one (flush-pace.ts): flushMs when idle, up to
 * MAX_STRETCH times that under load, where each flush's fixed cost (its msgpack here, the writer's merge and the
 * commit that follows) would otherwise be paid five times as often for the same entities. Checked before every task
 * as well as on the timer: a worker whose next task is always waiting in its port never gets to its timers (measured:
 * one batch in 3 s of back-to-back requests, the map held until the minute's turn or maxDeltaEntries).
 */
let lastBusy: EventLoopUtilization = performance.eventLoopUtilization();
let nextFlushAt = Date.now() + config.flushMs;
let flushTimer: NodeJS.Timeout | undefined;
function timedFlush(): void {
  flush(0);
  const now = performance.eventLoopUtilization();
  const busy = performance.eventLoopUtilization(now, lastBusy).utilization;
  lastBusy = now;
  const delay = flushDelay(config.flushMs, busy);
  nextFlushAt = Date.now() + delay;
  if (flushTimer !== undefined) clearTimeout(flushTimer);
  flushTimer = setTimeout(timedFlush, delay);
  // The flush timer alone must not keep a finished worker alive.
  flushTimer.unref();
}
flushTimer = setTimeout(timedFlush, config.flushMs);
flushTimer.unref();

/**
 * Decodes and folds one request. Protobuf goes in one pass from bytes to the delta map (streamLogs, streamMetrics,
 * streamTraces: checked whole before the first record is folded, no request-sized tree); JSON is decoded to a tree first.
 */
function fold(task: IngestTask, bytes: Uint8Array, now: number): { result: FoldResult; truncated: number } {
  const opts = { maxAttributes: config.maxAttributes };
  if (task.format === 'protobuf') {
    // The streams check the whole request before the first resource reaches the sink: the minute's flush runs only for a request that folds.
    const beforeFirst = () => {
      if (extractor.needsFlushFor(now)) flush(0);
    };
    let stats: DecodeStats;
    let result: FoldResult;
    if (task.signal === 'logs') {
      const sink = extractor.logsSink(now, beforeFirst);
      stats = streamLogs(bytes, opts, sink, hashBytes);
      result = sink.result();
    } else if (task.signal === 'metrics') {
      const sink = extractor.metricsSink(now, beforeFirst);
      stats = streamMetrics(bytes, opts, sink);
      result = sink.result();
    } else {
      const sink = extractor.tracesSink(now, beforeFirst);
      stats = streamTraces(bytes, opts, sink, hashBytes);
      result = sink.result();
    }
    // Dropped attributes, and keys or values cut to their length limit: all three are truncations.
    return { result, truncated: stats.truncated + stats.truncatedStrings };
  }
  const req = decodeRequest(task.signal, task.format, bytes, opts);
  // One batch holds one receive minute (its time bucket, DeltaBatch.minute): flush at the minute's turn.
  if (extractor.needsFlushFor(now)) flush(0);
  const result =
    task.signal === 'logs'
      ? extractor.foldLogs(req as never, now)
      : task.signal === 'metrics'
        ? extractor.foldMetrics(req as never, now)
        : extractor.foldTraces(req as never, now);
  // Dropped attributes, and keys or values cut to their length limit: all three are truncations.
  const truncated = ((req as { truncated?: number }).truncated ?? 0) + ((req as { truncatedStrings?: number }).truncatedStrings ?? 0);
  return { result, truncated };
}

export default function ingest(task: IngestTask): IngestResult {
  // Before this task, not after: what the flush sends is then only requests already answered (Piscina posts a task's
  // answer before it hands over the next one), so a worker that dies in this task takes this request's deltas with it.
  if (Date.now() >= nextFlushAt) timedFlush();
  let bytes: Uint8Array | undefined;
  if (blocker) Atomics.wait(blocker, 0, 0, taskFloorMs);
  try {
    bytes = decompress(new Uint8Array(task.body, task.bodyOffset ?? 0), task.encoding, config.maxDecompressedBytes);
    const now = task.receivedAt !== 0 ? task.receivedAt : Date.now();
    const { result, truncated } = fold(task, bytes, now);
    if (truncated > 0) extractor.countTruncated(truncated);
    if (task.ackToken !== 0) {
      extractor.addAck(task.ackToken);
      // A durable request waits for its commit: flush right after the tasks queued now, not at the next tick of the timer.
      if (!ackFlushScheduled) {
        ackFlushScheduled = true;
        setImmediate(() => {
          ackFlushScheduled = false;
          flush(0);
        });
      }
    }
    if (extractor.size() >= config.maxDeltaEntries) flush(0);
    if (crashMarker !== undefined && result.message === '' && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(crashMarker)) {
      // Fault injection for the crash test only (KEYTALLY_TEST_CRASH_MARKER); one undefined-check per task when off.
      process.exit(70);
    }
    return { ok: true, accepted: result.accepted, rejected: result.rejected, message: result.message, worker: threadId };
  } catch (err) {
    if (err instanceof PayloadTooLargeError) return { ok: false, status: 413, code: err.code, message: err.message };
    if (err instanceof UnsupportedEncodingError) return { ok: false, status: 415, code: err.code, message: err.message };
    if (err instanceof DecodeError) return { ok: false, status: 400, code: err.code, message: err.message };
    throw err;
  } finally {
    // Decoded strings are copies, so the request's bytes are dead now: free them rather than wait for a GC.
    if (bytes !== undefined && bytes.buffer !== task.body) releaseDecompressed(bytes);
    releaseBuffer(task.body);
  }
}
