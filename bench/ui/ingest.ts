/**
 * Ingest beside the UI's calls (bench/ui.ts --ingest R): about R log records a second, sent in requests ten times a
 * second, of the fill's own services and templates (bench/ui/big.ts), each line with a few of its service's first
 * 200 keys, so the store keeps changing under the calls as a running sidecar's does (every commit moves the store's
 * state: whatever a reader kept for the last one is tested), while no entity is new. The bodies are encoded once:
 * the sender costs the machine little beside the server.
 */
import { encodeProto, kv } from '../otlp-reference.js';
import { body } from './big.js';

/** Requests a second. */
const TICKS = 10;
/** Keys of a service the live traffic touches, and how many of them each line carries. */
const HOT_KEYS = 200;
const KEYS_PER_LINE = 5;
/** Requests sent and not yet answered, at most. */
const MAX_IN_FLIGHT = 8;

export interface Ingest {
  /** Stops sending; resolves with the records the server accepted. */
  stop(): Promise<{ records: number; refused: number }>;
}

export function startIngest(otlpUrl: string, o: { services: number; templates: number; keys: number }, rate: number): Ingest {
  const perRequest = Math.max(1, Math.round(rate / TICKS));
  const hot = Math.min(HOT_KEYS, Math.ceil(o.keys / o.services));
  // One body per service: lines of its templates, each with a few of its keys (of a hot few: live traffic touches
  // a small part of a large store's keys), perRequest lines in all.
  const bodies = Array.from({ length: o.services }, (_, s) => {
    const records: object[] = [];
    const now = String(Date.now() * 1e6);
    for (let i = 0; i < perRequest; i++) {
      const j = (i * 7 + s) % o.templates;
      const sev = j % 2 ? 'ERROR' : 'INFO';
      const attrs: Record<string, string> = {};
      for (let a = 0; a < KEYS_PER_LINE; a++) attrs[`attr.${String((i + a * 11) % hot).padStart(5, '0')}`] = `v${(i * 31 + a) % 997}`;
      records.push({ timeUnixNano: now, severityText: sev, severityNumber: sev === 'ERROR' ? 17 : 9, body: { stringValue: body(s, j, i) }, attributes: kv(attrs) });
    }
    const service = `service-${String(s).padStart(2, '0')}`;
    return encodeProto('logs', { resourceLogs: [{ resource: { attributes: kv({ 'service.name': service }) }, scopeLogs: [{ scope: { name: 'ui-bench' }, logRecords: records }] }] });
  });
  let records = 0;
  let refused = 0;
  let next = 0;
  const inFlight = new Set<Promise<void>>();
  const send = async () => {
    const b = bodies[next++ % bodies.length]!;
    const r = await fetch(`${otlpUrl}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: b });
    await r.arrayBuffer();
    if (r.status === 200) records += perRequest;
    else refused++;
  };
  const timer = setInterval(() => {
    // A few requests in flight at most (a durable ack waits for the commit): a server slower than the rate gets less, not a queue.
    if (inFlight.size >= MAX_IN_FLIGHT) return;
    const p = send().catch(() => void refused++).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }, 1000 / TICKS);
  // The sender alone must not keep the bench alive (an API call that failed ends it without stop()).
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      return { records, refused };
    },
  };
}
