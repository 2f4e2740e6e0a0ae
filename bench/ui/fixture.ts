/**
 * Known telemetry for the web UI tests and bench, sent with the real
 * OpenTelemetry JS SDK (protobuf exporters). Everything the browser test
 * asserts is written here: services, log bodies and counts, span names,
 * metrics and their labels, and markup in names and bodies that must show
 * as text.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';

/** Markup that would run if anything rendered it as HTML: each sets a global the test checks stays unset. */
export const XSS = {
  service: `<img src=x onerror="window.__xss='service'">shop`,
  body: `<script>window.__xss='body'</script> login failed for <img src=x onerror="window.__xss='body-img'">`,
  key: `<img src=x onerror="window.__xss='key'">`,
  scriptKey: `<script>window.__xss='key-script'</script>`,
};

export interface LogSpec {
  body: string;
  severity: 'INFO' | 'WARN' | 'ERROR';
  attrs?: Record<string, string | number>;
}

const SEV: Record<LogSpec['severity'], SeverityNumber> = { INFO: SeverityNumber.INFO, WARN: SeverityNumber.WARN, ERROR: SeverityNumber.ERROR };

export async function sendLogs(otlpUrl: string, service: string, logs: LogSpec[], headers?: Record<string, string>): Promise<void> {
  const exporter = new OTLPLogExporter({ url: `${otlpUrl}/v1/logs`, ...(headers ? { headers } : {}) });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.0.0' }),
    processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 512, maxQueueSize: 100_000 })],
  });
  const logger = provider.getLogger('ui-fixture');
  for (const l of logs) logger.emit({ body: l.body, severityNumber: SEV[l.severity], severityText: l.severity, ...(l.attrs ? { attributes: l.attrs } : {}) });
  await provider.forceFlush();
  await provider.shutdown();
}

export interface SpanSpec {
  name: string;
  kind: SpanKind;
  count: number;
  errors: number;
  attrs: (i: number) => Record<string, string | number>;
}

export async function sendSpans(otlpUrl: string, service: string, spans: SpanSpec[]): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${otlpUrl}/v1/traces` }))],
  });
  const tracer = provider.getTracer('ui-fixture');
  for (const s of spans) {
    for (let i = 0; i < s.count; i++) {
      const span = tracer.startSpan(s.name, { kind: s.kind, attributes: s.attrs(i) });
      if (i < s.errors) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  }
  await provider.forceFlush();
  await provider.shutdown();
}

export async function sendMetrics(otlpUrl: string, service: string, fill: (meter: ReturnType<MeterProvider['getMeter']>) => void): Promise<void> {
  const reader = new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${otlpUrl}/v1/metrics` }), exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': service }), readers: [reader] });
  fill(provider.getMeter('ui-fixture'));
  // shutdown() exports once; a forceFlush() before it would export the cumulative points a second time.
  await provider.shutdown();
}

/** What the known data set holds, as the UI must show it. */
export const KNOWN = {
  services: ['checkout', 'inventory', XSS.service].sort(),
  checkout: { logs: 44, spans: 12, spanErrors: 3, points: 50 },
  inventory: { logs: 12 + 150, spans: 4, points: 4 },
  xss: { logs: 3 },
  /** checkout has 'user.id' with 50 values on orders.placed; region has 3. */
  orders: { userIds: 50, regions: 3 },
  /** inventory's log records carry one distinct key each: k.000 ... k.149 (so its keys list needs two pages). */
  inventoryKeyCount: 150,
};

export async function fillKnown(otlpUrl: string): Promise<void> {
  const checkoutLogs: LogSpec[] = [];
  for (let i = 0; i < 30; i++) checkoutLogs.push({ body: `order ${1000 + i} shipped to warehouse ${i % 3}`, severity: 'INFO', attrs: { 'order.id': `o-${i}`, tenant: `t${i % 5}` } });
  for (const [i, user] of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'].entries()) {
    // From an address (a variable), not from `web`/`mobile`: two words that each recur are two templates (issue 11).
    checkoutLogs.push({ body: `user ${user} logged in from 10.1.${i}.${i * 3 + 1}`, severity: 'INFO', attrs: { tenant: `t${i % 5}` } });
  }
  for (let i = 0; i < 6; i++) checkoutLogs.push({ body: `payment declined for customer ${500 + i}`, severity: 'ERROR', attrs: { tenant: `t${i % 2}` } });
  const inventoryLogs: LogSpec[] = [];
  for (let i = 0; i < 12; i++) inventoryLogs.push({ body: `cache miss for sku ${7000 + i} in 12 ms`, severity: 'WARN' });
  for (let i = 0; i < 150; i++) inventoryLogs.push({ body: 'stock level checked', severity: 'INFO', attrs: { [`k.${String(i).padStart(3, '0')}`]: i } });
  const xssLogs: LogSpec[] = [0, 1, 2].map((i) => ({ body: XSS.body, severity: 'ERROR', attrs: { [XSS.key]: `v${i}`, [XSS.scriptKey]: 'x' } }));
  await Promise.all([
    sendLogs(otlpUrl, 'checkout', checkoutLogs),
    sendLogs(otlpUrl, 'inventory', inventoryLogs),
    sendLogs(otlpUrl, XSS.service, xssLogs),
    sendSpans(otlpUrl, 'checkout', [
      { name: 'POST /pay', kind: SpanKind.SERVER, count: 12, errors: 3, attrs: (i) => ({ 'http.route': '/pay', 'user.id': `u${i}` }) },
    ]),
    sendSpans(otlpUrl, 'inventory', [{ name: 'db.query', kind: SpanKind.CLIENT, count: 4, errors: 0, attrs: (i) => ({ 'db.system': 'sqlite', 'db.rows': i }) }]),
    sendMetrics(otlpUrl, 'checkout', (meter) => {
      const c = meter.createCounter('orders.placed', { unit: '1', description: 'orders placed' });
      for (let i = 0; i < 50; i++) c.add(1, { region: `r${i % 3}`, 'user.id': `u${i}` });
    }),
    sendMetrics(otlpUrl, 'inventory', (meter) => {
      const h = meter.createHistogram('stock.lookup.duration', { unit: 'ms' });
      for (let i = 0; i < 20; i++) h.record(i, { store: `s${i % 4}` });
      // What an SDK sends past its cardinality limit: the folded series carries otel.metric.overflow=true.
      const g = meter.createUpDownCounter('stock.reserved', { unit: '1' });
      g.add(1, { sku: 'a' });
      g.add(1, { 'otel.metric.overflow': true });
    }),
  ]);
}
