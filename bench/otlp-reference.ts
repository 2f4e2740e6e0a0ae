/**
 * The reference OTLP encoder shared by the benchmarks and the tests: the
 * protobufjs code generated inside @opentelemetry/otlp-transformer (an
 * implementation independent of keytally's decoder), plus the attribute
 * builder for OTLP/JSON-shaped request objects. Loaded on first use, so a
 * JSON-only run never loads protobufjs.
 */
import { createRequire } from 'node:module';
import type { Signal } from '../src/model/otlp.js';

const require = createRequire(import.meta.url);

export type Obj = Record<string, any>;
export type AttrValue = string | number | boolean;

export interface ProtoType {
  fromObject(o: Obj): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
  toObject(m: unknown, opts?: Obj): Obj;
}

let root: any;

/** The generated protobufjs root (`opentelemetry.proto.*`). */
export function otlpRoot(): any {
  root ??= require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
  return root;
}

const SERVICE: Record<Signal, string> = { logs: 'logs', metrics: 'metrics', traces: 'trace' };
const NAME: Record<Signal, string> = { logs: 'Logs', metrics: 'Metrics', traces: 'Trace' };

/** Export<Signal>ServiceRequest, or its Response when `response` is set. */
export function exportType(signal: Signal, response = false): ProtoType {
  return otlpRoot().opentelemetry.proto.collector[SERVICE[signal]].v1[`Export${NAME[signal]}Service${response ? 'Response' : 'Request'}`];
}

/** Protobuf bytes of a request object in the OTLP/JSON shape. */
export function encodeProto(signal: Signal, obj: Obj): Uint8Array {
  const T = exportType(signal);
  return T.encode(T.fromObject(obj)).finish();
}

/** OTLP KeyValue list from a plain object; integers as int64 strings, as the JSON mapping writes them. */
export function kv(attrs: Record<string, AttrValue>): Obj[] {
  return Object.entries(attrs).map(([key, v]) => ({
    key,
    value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v },
  }));
}
