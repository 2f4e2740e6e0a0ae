/**
 * Payload encoder for the load benchmark: OTLP request objects to wire bytes
 * (protobuf with the protobufjs code generated inside
 * @opentelemetry/otlp-transformer, an encoder independent of keytally's
 * decoder; or OTLP/JSON), optionally gzipped, and the pool of distinct bodies
 * built before a run so generating traffic costs nothing during it.
 */
import { gzipSync } from 'node:zlib';
import type { Signal } from '../../src/model/otlp.js';
import type { Format, Mix } from './options.js';
import { TrafficGenerator, type Obj } from './generator.js';
import { encodeProto } from '../otlp-reference.js';

export const PATHS: Record<Signal, string> = { logs: '/v1/logs', metrics: '/v1/metrics', traces: '/v1/traces' };
export const CONTENT_TYPES: Record<Format, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

/** OTLP/JSON writes trace and span ids as hex (protobuf as bytes): the generator keeps them as Uint8Array for both. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex') : value;
}

export function encodeRequest(signal: Signal, request: Obj, format: Format): Buffer {
  if (format === 'json') return Buffer.from(JSON.stringify(request, jsonReplacer));
  const bytes = encodeProto(signal, request);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface PoolBody {
  signal: Signal;
  body: Buffer;
  records: number;
}

export interface Pool {
  bodies: PoolBody[];
  format: Format;
  gzip: boolean;
  /** Request headers (the body's Content-Length is added by the client). */
  headers: Record<string, string>;
  /** Bytes of all bodies as sent, and as they decompress to. */
  bytes: number;
  rawBytes: number;
  generateMs: number;
}

/**
 * How many of `count` bodies each signal gets, by largest remainder, and an
 * order that interleaves them (so any stretch of the rotation has the mix).
 */
export function schedule(mix: Mix, count: number): Signal[] {
  const signals = (['logs', 'metrics', 'traces'] as const).filter((s) => mix[s] > 0);
  const exact = signals.map((s) => mix[s] * count);
  const n = exact.map(Math.floor);
  let left = count - n.reduce((a, b) => a + b, 0);
  const order = signals.map((_, i) => i).sort((a, b) => exact[b]! - n[b]! - (exact[a]! - n[a]!));
  for (const i of order) if (left-- > 0) n[i]!++;
  // Smooth weighted round-robin over the counts.
  const out: Signal[] = [];
  const credit = signals.map(() => 0);
  for (let k = 0; k < count; k++) {
    let best = -1;
    for (let i = 0; i < signals.length; i++) {
      if (n[i] === 0) continue;
      credit[i]! += n[i]!;
      if (best < 0 || credit[i]! > credit[best]!) best = i;
    }
    credit[best]! -= count;
    out.push(signals[best]!);
  }
  return out;
}

export function buildPool(opts: { mix: Mix; count: number; batch: number; format: Format; gzip: boolean; seed: number }): Pool {
  const t0 = performance.now();
  const gen = new TrafficGenerator(opts.seed);
  const bodies: PoolBody[] = [];
  let bytes = 0;
  let rawBytes = 0;
  for (const signal of schedule(opts.mix, opts.count)) {
    const g = gen.request(signal, opts.batch);
    const raw = encodeRequest(signal, g.request, opts.format);
    const body = opts.gzip ? gzipSync(raw) : raw;
    rawBytes += raw.byteLength;
    bytes += body.byteLength;
    bodies.push({ signal, body, records: g.records });
  }
  const headers: Record<string, string> = { 'Content-Type': CONTENT_TYPES[opts.format] };
  if (opts.gzip) headers['Content-Encoding'] = 'gzip';
  return { bodies, format: opts.format, gzip: opts.gzip, headers, bytes, rawBytes, generateMs: performance.now() - t0 };
}
