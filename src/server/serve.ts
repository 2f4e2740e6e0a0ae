/**
 * `keytally serve`: starts the pipeline, the OTLP receivers (HTTP, gRPC) and
 * the API, and on SIGTERM/SIGINT stops intake, drains, flushes, checkpoints
 * and exits 0.
 */
import { startHeapTrace } from '../util/heap-trace.js';
import { enableBufferRelease } from '../util/release.js';
import type { Config } from '../config.js';
import { createLogger } from '../util/log.js';
import { ApiHttpServer } from './api-http.js';
import { IngestMetrics } from './ingest-metrics.js';
import { MetricsExporter } from './metrics.js';
import { OtlpGrpcServer } from './otlp-grpc.js';
import { OtlpHttpServer } from './otlp-http.js';
import { Pipeline } from './pipeline.js';
import { loadNativeUws } from './uws.js';
import * as hdr from 'hdr-histogram-js';
import v8 from 'node:v8';

export interface RunningServer {
  otlpPort: number;
  /** 0 when --otlp-grpc is off. */
  grpcPort: number;
  apiPort: number;
  pipeline: Pipeline;
  shutdown(): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  const log = createLogger(config.logLevel);
  // V8 flags are per process; set before any worker thread (isolate) is created, they apply to all of them.
  if (config.memory === 'small') v8.setFlagsFromString('--optimize-for-size');
  enableBufferRelease();
  if (config.heapGrowthPercent > 0) v8.setFlagsFromString(`--heap-growing-percent=${config.heapGrowthPercent}`);
  startHeapTrace('main');
  const uws = loadNativeUws();
  // hdr-histogram-js keeps its histograms in WebAssembly memory once initialised (DESIGN §7).
  await hdr.initWebAssembly();
  const pipeline = new Pipeline(config, log);
  await pipeline.start();
  const ingestMetrics = new IngestMetrics();
  const exporter = new MetricsExporter(ingestMetrics, pipeline);
  const otlp = new OtlpHttpServer(uws, config, pipeline, ingestMetrics);
  const api = new ApiHttpServer(uws, config, pipeline, exporter);
  const grpc = config.otlpGrpc === 'off' ? undefined : new OtlpGrpcServer(config, pipeline, ingestMetrics, log);
  try {
    await otlp.start();
    await grpc?.start();
    await api.start();
  } catch (err) {
    // A port that cannot be bound (in use: see listen.ts) stops start-up; close what did start first.
    otlp.stop();
    await grpc?.stop();
    api.stop();
    await pipeline.shutdown();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      otlp.stop();
      // gRPC calls in flight are answered (their requests drained with the pipeline's), later ones get UNAVAILABLE.
      await Promise.all([grpc?.stop(), pipeline.shutdown()]);
      api.stop();
    })();
    return stopping;
  };
  const mem = pipeline.memory;
  if (config.memoryLimitMb > 0 && mem.lastRss >= mem.softBytes) {
    log.warn(
      { rss: mem.lastRss, softLimit: mem.softBytes, hardLimit: mem.hardBytes },
      'the idle process is already over the soft memory limit: every request will be refused until --memory-limit-mb is raised',
    );
  }
  const grpcPort = grpc?.port ?? 0;
  // One line a supervisor (or a test) can wait on: the ports actually bound.
  log.info({ otlp: otlp.port, grpc: grpc ? grpcPort : 'off', api: api.port, data: config.data, workers: config.workers, ack: config.ack }, 'keytally listening');
  process.stdout.write(`keytally listening otlp=${otlp.port} api=${api.port} grpc=${grpc ? grpcPort : 'off'}\n`);
  return { otlpPort: otlp.port, grpcPort, apiPort: api.port, pipeline, shutdown };
}

export async function serve(config: Config): Promise<number> {
  // Handlers go in before anything starts (a signal during start-up still drains cleanly) and stay
  // installed: a second signal while draining must not kill the process with the default action.
  let draining = false;
  let signalled!: () => void;
  const stop = new Promise<void>((resolve) => (signalled = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    process.stdout.write(draining ? `keytally: ${sig} again, still draining\n` : `keytally: ${sig}, draining\n`);
    draining = true;
    signalled();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const server = await startServer(config);
  await stop;
  await server.shutdown();
  process.stdout.write('keytally stopped\n');
  return 0;
}
