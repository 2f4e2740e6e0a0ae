/** Messages between bench/load.ts and its load driver child (bench/load/driver.ts). */
import type { Signal } from '../../src/model/otlp.js';
import type { Client, Format, Mix, Protocol } from './options.js';

export type SignalCounts = Record<Signal, number>;

export interface DriverInit {
  /** OTLP/HTTP (see `client`), or OTLP/gRPC through bench/load/grpc-driver.ts. */
  protocol: Protocol;
  /** OTLP/HTTP: keytally's own client (bench/load/http1-driver.ts) or autocannon. */
  client: Client;
  url: string;
  mix: Mix;
  pool: number;
  batch: number;
  format: Format;
  gzip: boolean;
  seed: number;
  connections: number;
  /** Records/s offered (open loop); 0 = closed loop. */
  rate: number;
  duration: number;
  /** Seconds of the same load before the measured run (not measured, but counted for loss). */
  warmup: number;
}

export interface DriverResult {
  /** From the first request to the last response. */
  durationMs: number;
  responses: number;
  ok: number;
  non2xx: number;
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Records in the requests sent, and in those answered 2xx. */
  offered: SignalCounts;
  accepted: SignalCounts;
  /** Latency of 2xx responses. */
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  /** Open loop: requests sent later than their slot because no connection was free. */
  pacedLate: number;
}

export type ParentMessage = { type: 'init'; init: DriverInit } | { type: 'go' };

export type DriverMessage =
  | { type: 'ready'; bodies: number; bytes: number; rawBytes: number; generateMs: number; bodiesPerSignal: SignalCounts }
  | { type: 'progress'; elapsedMs: number; responses: number; ok: number; non2xx: number; accepted: SignalCounts }
  | { type: 'warmed'; result: DriverResult }
  | { type: 'done'; result: DriverResult }
  | { type: 'error'; message: string };
