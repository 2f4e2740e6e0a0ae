/**
 * Ingest beside the UI's calls (bench/ui.ts --ingest R): about R log records a second, sent in requests ten times a
 * second, of the fill's own services, templates and keys (bench/ui/big.ts), so the store keeps changing under the
 * calls as a running sidecar's does (every commit moves the store's state: whatever a reader kept for the last one
 * is tested), while no entity is new. The bodies are encoded once: the sender costs the machine little beside the
 * server.
 */
import { encodeProto, kv } from '../otlp-reference.js';
import { body } from './big.js';

/** Requests a second. */
const TICKS = 10;

export interface Ingest {
  /** Stops sending; resolves with the records the server accepted. */
  stop(): Promise<{ records: number; refused: number }>;
}

export function startIngest(otlpUrl: string, o: { services: number; templates: number; keys: number }, rate: number): Ingest {
  const perRequest = Math.max(1, Math.round(rate / TICKS));
  const keysPerService = Math.ceil(o.keys / o.services);
  // One body per service: lines of its templates and carriers of 100 of its keys each, in turn, perRequest in all.
  const bodies = Array.from({ length: o.services }, (_, s) => {
    const records: object[] = [];
    const now = String(Date.now() * 1e6);
    for (let i = 0; i < perRequest; i++) {
      if (i % 10 === 9) {
        const k0 = (Math.floor(i / 10) * 100) % keysPerService;
        const attrs: Record<string, string> = {};
        for (let k = k0; k < Math.min(k0 + 100, keysPerService); k++) attrs[`attr.${String(k).padStart(5, '0')}`] = `v${(k + i) % 97}`;
        records.push({ timeUnixNano: now, severityText: 'DEBUG', severityNumber: 5, body: { stringValue: 'keys carrier' }, attributes: kv(attrs) });
      } else {
        const j = (i * 7 + s) % o.templates;
        const sev = j % 2 ? 'ERROR' : 'INFO';
        records.push({ timeUnixNano: now, severityText: sev, severityNumber: sev === 'ERROR' ? 17 : 9, body: { stringValue: body(s, j, i) } });
      }
    }
    const service = `service-${String(s).padStart(2, '0')}`;
    return encodeProto('logs', { resourceLogs: [{ resource: { attributes: kv({ 'service.name': service }) }, scopeLogs: [{ scope: { name: 'ui-bench' }, logRecords: records }] }] });
  });
  let records = 0;
  let refused = 0;
  let next = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const send = async () => {
    const b = bodies[next++ % bodies.length]!;
    const r = await fetch(`${otlpUrl}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: b });
    await r.arrayBuffer();
    if (r.status === 200) records += perRequest;
    else refused++;
  };
  const timer = setInterval(() => {
    // One request at a time: a server slower than the rate gets less, not a queue.
    inFlight = inFlight.then(send, send);
  }, 1000 / TICKS);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight.catch(() => undefined);
      return { records, refused };
    },
  };
}
