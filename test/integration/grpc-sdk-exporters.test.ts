import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { startKeytally, type Keytally } from '../helpers/server.js';

// The OpenTelemetry JS SDK's gRPC exporters against keytally's OTLP/gRPC
// receiver, with and without gzip. Each case sends the same telemetry twice —
// over gRPC as service grpc-…, over OTLP/HTTP (protobuf) as service http-… —
// and the API must answer the same for both, up to the service name and the
// times. One sidecar (one salt), so equal inputs give equal sketches.
let k: Keytally;
beforeAll(async () => {
  k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5'] });
});
afterAll(async () => {
  if (!k) return;
  expect(await k.stop()).toBe(0);
  k.cleanup();
});

/** An API answer with the service name made generic and times (which differ between the two sends) removed. */
function normalised(body: unknown, service: string): unknown {
  return JSON.parse(JSON.stringify(body, (key, v) => (/seen|time|_at$/i.test(key) ? undefined : v)).split(service).join('SERVICE'));
}

async function sameAnswers(paths: (service: string) => string[], grpcService: string, httpService: string): Promise<void> {
  for (const [g, h] of paths(grpcService).map((p, i) => [p, paths(httpService)[i]!] as const)) {
    const [a, b] = await Promise.all([k.get(g), k.get(h)]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.total ?? a.body.items?.length).toBeGreaterThan(0);
    expect(normalised(a.body, grpcService), g).toEqual(normalised(b.body, httpService));
  }
}

const variants = [
  { name: 'plain', compression: undefined },
  { name: 'gzip', compression: 'gzip' },
] as const;

describe.each(variants)('OpenTelemetry SDK gRPC exporters ($name) answer as OTLP/HTTP does', (v) => {
  const grpcUrl = () => `http://127.0.0.1:${k.grpcPort}`;
  const compression = v.compression ? { compression: v.compression as never } : {};

  it('logs', async () => {
    const send = async (service: string, exporter: LogRecordExporter) => {
      const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': service }), processors: [new BatchLogRecordProcessor({ exporter })] });
      const logger = provider.getLogger('test');
      for (let i = 0; i < 40; i++) {
        logger.emit({ body: `order ${1000 + i} shipped to warehouse ${i % 3}`, severityNumber: SeverityNumber.INFO, severityText: 'INFO', attributes: { 'order.id': `o-${i}`, tenant: `t${i % 5}` } });
      }
      logger.emit({ body: 'payment declined', severityNumber: SeverityNumber.ERROR, attributes: { tenant: 't1' } });
      await provider.forceFlush();
      await provider.shutdown();
    };
    const g = `grpc-logs-${v.name}`;
    const h = `http-logs-${v.name}`;
    await send(g, new GrpcLogExporter({ url: grpcUrl(), ...compression }));
    await send(h, new ProtoLogExporter({ url: `${k.otlpUrl}/v1/logs`, ...compression }));
    const logs = await k.get(`/api/v1/logs?service=${g}&sort=severity&order=asc`);
    expect(logs.body.items.map((i: any) => [i.severity, i.sample_count])).toEqual([
      ['ERROR', 1],
      ['INFO', 40],
    ]);
    await sameAnswers(
      (s) => [
        `/api/v1/services?q=${s}`,
        `/api/v1/logs?service=${s}&sort=severity&order=asc`,
        `/api/v1/logs/templates?service=${s}&severity=INFO`,
        `/api/v1/keys?service=${s}&scope=log&sort=key&order=asc`,
      ],
      g,
      h,
    );
  });

  it('traces', async () => {
    const send = async (service: string, exporter: SpanExporter) => {
      const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
      const tracer = provider.getTracer('test');
      for (let i = 0; i < 12; i++) {
        const span = tracer.startSpan(i % 4 === 0 ? 'charge' : 'checkout', { attributes: { 'cart.size': i, 'user.id': `u${i}` } });
        span.addEvent('validated', { step: 'one' });
        span.end();
      }
      await provider.forceFlush();
      await provider.shutdown();
    };
    const g = `grpc-traces-${v.name}`;
    const h = `http-traces-${v.name}`;
    await send(g, new GrpcTraceExporter({ url: grpcUrl(), ...compression }));
    await send(h, new ProtoTraceExporter({ url: `${k.otlpUrl}/v1/traces`, ...compression }));
    const spans = await k.get(`/api/v1/spans?service=${g}&sort=name&order=asc`);
    expect(spans.body.items.map((i: any) => [i.name, i.sample_count])).toEqual([
      ['charge', 3],
      ['checkout', 9],
    ]);
    await sameAnswers((s) => [`/api/v1/services?q=${s}`, `/api/v1/spans?service=${s}&sort=name&order=asc`, `/api/v1/keys?service=${s}&sort=key&order=asc`], g, h);
  });

  it('metrics', async () => {
    const send = async (service: string, exporter: PushMetricExporter) => {
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
      const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': service }), readers: [reader] });
      const meter = provider.getMeter('test');
      const counter = meter.createCounter('jobs.done', { unit: '1', description: 'jobs' });
      const hist = meter.createHistogram('job.duration', { unit: 's' });
      for (let i = 0; i < 30; i++) {
        counter.add(1, { queue: `q${i % 6}`, status: i % 2 ? 'ok' : 'fail' });
        hist.record(i / 10, { queue: `q${i % 6}` });
      }
      await provider.forceFlush();
      await provider.shutdown();
    };
    const g = `grpc-metrics-${v.name}`;
    const h = `http-metrics-${v.name}`;
    await send(g, new GrpcMetricExporter({ url: grpcUrl(), ...compression }));
    await send(h, new ProtoMetricExporter({ url: `${k.otlpUrl}/v1/metrics`, ...compression }));
    const m = await k.get(`/api/v1/metrics?service=${g}&sort=name&order=asc`);
    expect(m.body.items.map((i: any) => [i.name, i.type, i.series_estimate])).toEqual([
      ['job.duration', 'histogram', 6],
      ['jobs.done', 'sum', 6],
    ]);
    await sameAnswers(
      (s) => [`/api/v1/services?q=${s}`, `/api/v1/metrics?service=${s}&sort=name&order=asc`, `/api/v1/metrics/jobs.done?service=${s}`, `/api/v1/metrics/job.duration?service=${s}`],
      g,
      h,
    );
  });
});

describe('/metrics after the same data over both protocols', () => {
  it('counts the same records and bytes-carrying requests under protocol="grpc" as under protocol="http"', async () => {
    const text = (await k.get('/metrics')).body as string;
    for (const signal of ['logs', 'metrics', 'traces']) {
      const val = (protocol: string) => Number(new RegExp(`^keytally_records_total\\{protocol="${protocol}",signal="${signal}"\\} (\\d+)`, 'm').exec(text)?.[1]);
      expect(val('grpc'), signal).toBeGreaterThan(0);
      expect(val('grpc'), signal).toBe(val('http'));
    }
    expect(text).toMatch(/keytally_requests_total\{protocol="grpc",signal="traces",code="OK"\} 24\b/);
    expect(text).toMatch(/keytally_requests_total\{protocol="http",signal="traces",code="200"\} 24\b/);
  });
});
