/**
 * OTLP/protobuf log requests for bench/memory-server.ts, built as templates.
 *
 * The bench sends about 100 million attribute values. Encoding each request
 * with protobufjs (fromObject + encode) would cost the client more CPU than the
 * sidecar spends decoding it, on a two-core machine where they share the CPU.
 * So the request *shape* is encoded once with the protobufjs code generated
 * inside @opentelemetry/otlp-transformer (an encoder independent of ours), with
 * fixed-width placeholder bytes where the service name and the attribute
 * values go; each request is then a copy of those bytes with the placeholders
 * overwritten by digits of the same width. Same width means every length
 * prefix stays valid, so the result is exactly what protobufjs would encode for
 * those values.
 */
import { exportType } from '../otlp-reference.js';

const Request = exportType('logs');

/** Bytes that appear nowhere else in an encoded request (all names and fixed values are ASCII letters, digits, '.', '-'). */
const VALUE_MARK = 0x7f;
const SERVICE_MARK = 0x7e;

export interface LogTemplate {
  /** The encoded request with placeholders. Never modified: fill() copies it. */
  readonly bytes: Buffer;
  /** Offset of the service name placeholder. */
  readonly serviceAt: number;
  readonly serviceWidth: number;
  /** Offsets of the attribute value placeholders, record by record, attribute by attribute. */
  readonly valueAt: Int32Array;
  readonly valueWidth: number;
}

/**
 * Encodes one resource (service.name only) with one scope whose records carry
 * the keys `recordKeys[i]` (all string-valued), each value `valueWidth` bytes.
 */
export function buildLogTemplate(recordKeys: string[][], serviceWidth: number, valueWidth: number): LogTemplate {
  const servicePh = String.fromCharCode(SERVICE_MARK).repeat(serviceWidth);
  const valuePh = String.fromCharCode(VALUE_MARK).repeat(valueWidth);
  const time = String(BigInt(Date.now()) * 1_000_000n);
  const obj = {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: servicePh } }] },
        scopeLogs: [
          {
            scope: { name: 'keytally-bench' },
            logRecords: recordKeys.map((keys) => ({
              timeUnixNano: time,
              severityText: 'INFO',
              severityNumber: 9,
              // A constant body: the template miner sees one template, so its memory stays out of the figures.
              body: { stringValue: 'request handled' },
              attributes: keys.map((key) => ({ key, value: { stringValue: valuePh } })),
            })),
          },
        ],
      },
    ],
  };
  const bytes = Buffer.from(Request.encode(Request.fromObject(obj)).finish());
  const serviceAt = bytes.indexOf(servicePh, 0, 'latin1');
  if (serviceAt < 0 || bytes.indexOf(servicePh, serviceAt + 1, 'latin1') >= 0) throw new Error('service placeholder not found exactly once');
  const total = recordKeys.reduce((n, k) => n + k.length, 0);
  const valueAt = new Int32Array(total);
  // protobufjs writes repeated fields in order, so the placeholders come in record, attribute order.
  let pos = 0;
  for (let i = 0; i < total; i++) {
    const at = bytes.indexOf(valuePh, pos, 'latin1');
    // The byte before a placeholder is its length prefix (widths < 128 take one byte).
    if (at < 0 || bytes[at - 1] !== valueWidth) throw new Error(`value placeholder ${i} of ${total} not found`);
    valueAt[i] = at;
    pos = at + valueWidth;
  }
  if (bytes.indexOf(VALUE_MARK, pos) >= 0) throw new Error('more value placeholders than attributes');
  return { bytes, serviceAt, serviceWidth, valueAt, valueWidth };
}

/** Writes n as `width` decimal digits at `at` (zero-padded; n must fit). */
export function writeDigits(buf: Buffer, at: number, n: number, width: number): void {
  for (let i = at + width - 1; i >= at; i--) {
    buf[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  if (n !== 0) throw new RangeError(`value does not fit in ${width} digits`);
}

/**
 * A copy of the template with the service name set and every value placeholder
 * filled by `value(slot, buf, at)`, which must write exactly valueWidth bytes.
 */
export function fill(t: LogTemplate, service: string, value: (slot: number, buf: Buffer, at: number) => void): Buffer {
  if (service.length !== t.serviceWidth) throw new RangeError(`service name ${service} is not ${t.serviceWidth} bytes`);
  const buf = Buffer.from(t.bytes);
  buf.write(service, t.serviceAt, 'latin1');
  const at = t.valueAt;
  for (let i = 0; i < at.length; i++) value(i, buf, at[i]!);
  return buf;
}
