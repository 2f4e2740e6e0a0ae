/**
 * A large store for the UI bench: `services` services × `templates` log templates each (two severities), and
 * `keys` attribute keys in all, sent as OTLP/protobuf through the real ingest path.
 */
import { encodeProto, kv } from '../otlp-reference.js';

/** A word made of letters only (digits would be masked as numbers and merge templates). */
function word(n: number): string {
  let s = '';
  do {
    s += String.fromCharCode(97 + (n % 26));
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
}

/** Template j of a service: 3–10 tokens, all distinct from every other template's, so none merge. */
export function body(svc: number, j: number, rep: number): string {
  const len = 3 + (j % 8);
  const toks: string[] = [];
  for (let t = 0; t < len; t++) toks.push(`${word(j * 11 + t + 1000)}${word(svc)}`);
  // One varying number per line: masked as <NUM>, the line still lands in its template.
  toks.push(String(rep * 7 + j));
  return toks.join(' ');
}

async function post(otlpUrl: string, obj: object, receivedAt?: number): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
  // With `serve --test-clock on`: when the request was received (the history's minute).
  if (receivedAt !== undefined) headers['x-keytally-received-at'] = String(receivedAt);
  const body = encodeProto('logs', obj);
  for (;;) {
    const r = await fetch(`${otlpUrl}/v1/logs`, { method: 'POST', headers, body });
    if (r.status === 200) return;
    const text = await r.text();
    // Pushed back (the writer or the memory limiter): again after the pause it asks for.
    if (r.status !== 429 && r.status !== 503) throw new Error(`ingest answered ${r.status}: ${text}`);
    await new Promise((ok) => setTimeout(ok, 1000 * Number(r.headers.get('retry-after') ?? 1)));
  }
}

const logsRequest = (service: string, records: object[]) => ({
  resourceLogs: [{ resource: { attributes: kv({ 'service.name': service }) }, scopeLogs: [{ scope: { name: 'ui-bench' }, logRecords: records }] }],
});

/**
 * One fill. `at` (a steady store, bench/ui.ts --steady): received at `receivedAt` (the server runs with
 * --test-clock on), and `shift` changes how many lines each template sends (1 to 8, shifted: some more than in
 * another fill, some fewer, every third the same) and which keys are sent twice (a third of the key records).
 */
export async function fillBig(otlpUrl: string, o: { services: number; templates: number; keys: number }, at?: { receivedAt: number; shift: number }): Promise<void> {
  const now = at?.receivedAt ?? Date.now();
  const shift = at?.shift ?? 0;
  const keysPerService = Math.ceil(o.keys / o.services);
  const work: Promise<void>[] = [];
  for (let s = 0; s < o.services; s++) {
    const service = `service-${String(s).padStart(2, '0')}`;
    const records: object[] = [];
    for (let j = 0; j < o.templates; j++) {
      const sev = j % 2 ? 'ERROR' : 'INFO';
      // A skewed count per template (1 to 8 lines), so sorting by count means something.
      for (let rep = 0; rep < 1 + ((j + (j % 3 === 0 ? 0 : shift)) % 8); rep++) {
        records.push({ timeUnixNano: String(now * 1e6), severityText: sev, severityNumber: sev === 'ERROR' ? 17 : 9, body: { stringValue: body(s, j, rep) } });
      }
    }
    // Keys: records with 100 distinct attribute keys each.
    for (let k = 0; k < keysPerService; k += 100) {
      const attrs: Record<string, string> = {};
      for (let i = k; i < Math.min(k + 100, keysPerService); i++) attrs[`attr.${String(i).padStart(5, '0')}`] = `v${i % 97}`;
      const carrier = { timeUnixNano: String(now * 1e6), severityText: 'DEBUG', severityNumber: 5, body: { stringValue: 'keys carrier' }, attributes: kv(attrs) };
      records.push(carrier);
      if (at && (k / 100 + shift) % 3 === 0) records.push(carrier);
    }
    for (let i = 0; i < records.length; i += 500) work.push(post(otlpUrl, logsRequest(service, records.slice(i, i + 500)), at?.receivedAt));
    // Bounded concurrency: a few services in flight at once.
    if (work.length > 16) await Promise.all(work.splice(0));
  }
  await Promise.all(work);
}
