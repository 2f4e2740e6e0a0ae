/**
 * One workload of all three signals, sent with the OpenTelemetry JS SDK
 * exporters (protobuf) to one or more keytally instances.
 *
 * mode 'all': every target receives every record (one SDK provider with one
 * processor/reader per target, so the records, and their timestamps, are
 * identical) — the conformance suite compares backends this way.
 * mode 'split': the records are dealt out, each to one target — the fleet
 * test sends thirds of the workload to three instances. A metric series (one
 * attribute set) always goes whole to one target, so its data points are
 * counted once, as by a single instance.
 *
 * Deterministic: services, keys, values and log lines come from a seeded
 * generator; overlapping services, keys and templates on purpose.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { generateLogs, rng } from '../helpers/log-generator.js';

export const SERVICES = ['checkout', 'cart', 'web/frontend'] as const;

export interface WorkloadSize {
  /** Log lines per service. */
  logs: number;
  /** Spans per service. */
  spans: number;
  /** Distinct values of the high-cardinality key (past the sketches' sparse range at p=14 with a few thousand). */
  highCardinality: number;
}

export const DEFAULT_SIZE: WorkloadSize = { logs: 2500, spans: 300, highCardinality: 3000 };

const SEVERITIES: Array<[SeverityNumber, string]> = [
  [SeverityNumber.INFO, 'INFO'],
  [SeverityNumber.WARN, 'WARN'],
  [SeverityNumber.ERROR, 'ERROR'],
];

const KINDS = [SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL, SpanKind.PRODUCER];

/** Totals the workload must produce, per service, whatever the mode. */
export function expectedTotals(size: WorkloadSize = DEFAULT_SIZE): { logs: number; spans: number } {
  return { logs: size.logs + 1, spans: size.spans };
}

export async function sendWorkload(otlpUrls: string[], mode: 'all' | 'split', size: WorkloadSize = DEFAULT_SIZE): Promise<void> {
  for (const [si, service] of SERVICES.entries()) {
    const resource = resourceFromAttributes({ 'service.name': service, 'service.version': `1.${si}`, 'host.name': `host-${si}` });
    await sendLogs(otlpUrls, mode, resource, si, size);
    await sendTraces(otlpUrls, mode, resource, si, size);
    await sendMetrics(otlpUrls, mode, resource, si);
  }
}

type Resource = ReturnType<typeof resourceFromAttributes>;

/** A target for record `i`: every one in 'all' mode, one of them in 'split' mode. */
function dealer(n: number, mode: 'all' | 'split'): (i: number) => number[] {
  const all = Array.from({ length: n }, (_, j) => j);
  return (i) => (mode === 'all' ? all : [i % n]);
}

async function sendLogs(urls: string[], mode: 'all' | 'split', resource: Resource, si: number, size: WorkloadSize): Promise<void> {
  const r = rng(100 + si);
  const { lines } = generateLogs({ seed: 7 + si, lines: size.logs });
  const providers = (mode === 'all' ? [urls] : urls.map((u) => [u])).map(
    (group) =>
      new LoggerProvider({
        resource,
        processors: group.map((u) => new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${u}/v1/logs` }), maxExportBatchSize: 200, maxQueueSize: 100_000, scheduledDelayMillis: 50 })),
      }),
  );
  const deal = dealer(urls.length, mode);
  const loggers = providers.map((p) => p.getLogger('conformance'));
  lines.forEach((line, i) => {
    const [num, text] = SEVERITIES[Math.floor(r() * SEVERITIES.length)]!;
    const logger = mode === 'all' ? loggers[0]! : loggers[deal(i)[0]!]!;
    logger.emit({
      body: line,
      severityNumber: num,
      severityText: text,
      // user.id: one value per line, past the sketches' sparse range (an estimate, not a count).
      attributes: { 'user.id': `u${i}`, 'session.id': `s${Math.floor(r() * size.highCardinality)}`, tenant: `t${i % 7}`, ...(i % 3 === 0 ? { 'http.route': `/r/${i % 11}` } : {}) },
    });
  });
  // A structured body: its keys are the shape.
  const logger = loggers[0]!;
  logger.emit({ body: { msg: 'payment declined', code: 402, 'card.brand': 'visa' } as never, severityNumber: SeverityNumber.ERROR, severityText: 'ERROR' });
  for (const p of providers) {
    await p.forceFlush();
    await p.shutdown();
  }
}

async function sendTraces(urls: string[], mode: 'all' | 'split', resource: Resource, si: number, size: WorkloadSize): Promise<void> {
  const r = rng(200 + si);
  const groups = mode === 'all' ? [urls] : urls.map((u) => [u]);
  const providers = groups.map(
    (group) =>
      new BasicTracerProvider({
        resource,
        spanProcessors: group.map((u) => new BatchSpanProcessor(new OTLPTraceExporter({ url: `${u}/v1/traces` }), { maxExportBatchSize: 100, maxQueueSize: 100_000, scheduledDelayMillis: 50 }) as SpanProcessor),
      }),
  );
  const tracers = providers.map((p) => p.getTracer('conformance'));
  const names = ['GET /checkout', 'POST /cart', 'db.query', 'process_order', 'Cache_Lookup'];
  for (let i = 0; i < size.spans; i++) {
    const tracer = mode === 'all' ? tracers[0]! : tracers[i % tracers.length]!;
    const span = tracer.startSpan(names[i % names.length]!, {
      kind: KINDS[(i * 7 + si) % KINDS.length],
      attributes: { 'http.method': ['GET', 'POST'][i % 2]!, 'request.id': `req-${Math.floor(r() * size.highCardinality)}`, ...(i % 4 === 0 ? { 'db.system': 'postgresql' } : {}) },
    });
    if (i % 5 === 0) span.addEvent('exception', { 'exception.type': `E${i % 3}` });
    if (i % 9 === 0) span.setStatus({ code: SpanStatusCode.ERROR });
    else if (i % 2 === 0) span.setStatus({ code: SpanStatusCode.OK });
    span.end();
  }
  for (const p of providers) {
    await p.forceFlush();
    await p.shutdown();
  }
}

async function sendMetrics(urls: string[], mode: 'all' | 'split', resource: Resource, si: number): Promise<void> {
  const groups = mode === 'all' ? [urls] : urls.map((u) => [u]);
  const providers = groups.map(
    (group) =>
      new MeterProvider({
        resource,
        readers: group.map((u) => new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${u}/v1/metrics` }), exportIntervalMillis: 3_600_000 })),
      }),
  );
  const meters = providers.map((p) => p.getMeter('conformance'));
  const instruments = meters.map((m) => ({
    counter: m.createCounter('jobs.done', { unit: '1', description: 'jobs done' }),
    hist: m.createHistogram('http.server.duration', { unit: 'ms' }),
    gauge: m.createUpDownCounter('queue.depth', { unit: '{item}' }),
    pod: m.createCounter('requests', { unit: '{request}' }),
  }));
  // Each series (attribute set) goes whole to one target in split mode: see the header.
  const pick = (series: number) => instruments[mode === 'all' ? 0 : series % instruments.length]!;
  for (let q = 0; q < 6; q++) {
    for (const status of ['ok', 'fail']) pick(q * 2 + (status === 'ok' ? 0 : 1)).counter.add(q + 1, { queue: `q${q}`, status });
    pick(q).hist.record(q * 3.5 + si, { queue: `q${q}`, 'http.route': `/api/${q % 4}` });
    pick(q).gauge.add(q - 2, { queue: `q${q}` });
  }
  // A label that explodes: many distinct pods.
  for (let p = 0; p < 150 * (si + 1); p++) pick(p).pod.add(1, { pod: `pod-${p}`, zone: `z${p % 3}` });
  for (const p of providers) {
    await p.forceFlush();
    await p.shutdown();
  }
}
