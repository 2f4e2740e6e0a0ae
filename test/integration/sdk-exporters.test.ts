import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { startKeytally, type Keytally } from '../helpers/server.js';

// The real OpenTelemetry JS SDK exporters as clients: protobuf, protobuf+gzip, JSON.
let k: Keytally;
beforeAll(async () => {
  k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5'] });
});
afterAll(async () => {
  expect(await k.stop()).toBe(0);
  k.cleanup();
});

const variants = [
  { name: 'proto', Log: ProtoLogExporter, Trace: ProtoTraceExporter, Metric: ProtoMetricExporter, compression: undefined },
  { name: 'proto-gzip', Log: ProtoLogExporter, Trace: ProtoTraceExporter, Metric: ProtoMetricExporter, compression: 'gzip' },
  { name: 'json', Log: JsonLogExporter, Trace: JsonTraceExporter, Metric: JsonMetricExporter, compression: undefined },
] as const;

describe.each(variants)('OpenTelemetry SDK exporters ($name)', (v) => {
  const service = `sdk-${v.name}`;
  const resource = resourceFromAttributes({ 'service.name': service, 'service.version': '1.2.3' });
  const opts = (path: string) => ({ url: `${k.otlpUrl}${path}`, ...(v.compression ? { compression: v.compression as never } : {}) });

  it('logs', async () => {
    const provider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: new v.Log(opts('/v1/logs')) })] });
    const logger = provider.getLogger('test');
    for (let i = 0; i < 25; i++) {
      logger.emit({ body: `order ${1000 + i} shipped to warehouse ${i % 3}`, severityNumber: SeverityNumber.INFO, severityText: 'INFO', attributes: { 'order.id': `o-${i}`, tenant: `t${i % 5}` } });
    }
    logger.emit({ body: 'payment declined', severityNumber: SeverityNumber.ERROR, attributes: { tenant: 't1' } });
    await provider.forceFlush();
    await provider.shutdown();
    const logs = await k.get(`/api/v1/logs?service=${service}&sort=severity&order=asc`);
    expect(logs.body.items.map((i: any) => [i.severity, i.sample_count])).toEqual([
      ['ERROR', 1],
      ['INFO', 25],
    ]);
    expect(logs.body.items[1].attribute_keys).toEqual(['order.id', 'tenant']);
    const t = await k.get(`/api/v1/logs/templates?service=${service}&severity=INFO`);
    expect(t.body.items).toHaveLength(1);
    expect(t.body.items[0]).toMatchObject({ count: 25, percentage: 100 });
    const keys = await k.get(`/api/v1/keys?service=${service}&scope=log&sort=cardinality_estimate&order=desc`);
    expect(keys.body.items[0]).toMatchObject({ key: 'order.id', cardinality_estimate: 25, sample_count: 25 });
  });

  it('traces', async () => {
    const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(new v.Trace(opts('/v1/traces')))] });
    const tracer = provider.getTracer('test');
    for (let i = 0; i < 12; i++) {
      const span = tracer.startSpan('checkout', { attributes: { 'cart.size': i, 'user.id': `u${i}` } });
      span.addEvent('validated', { step: 'one' });
      span.end();
    }
    await provider.forceFlush();
    await provider.shutdown();
    const spans = await k.get(`/api/v1/spans?service=${service}`);
    expect(spans.body.items).toHaveLength(1);
    expect(spans.body.items[0]).toMatchObject({ name: 'checkout', kind: 'internal', sample_count: 12, attribute_keys: ['cart.size', 'user.id'], event_names: ['validated'] });
  });

  it('metrics', async () => {
    const reader = new PeriodicExportingMetricReader({ exporter: new v.Metric(opts('/v1/metrics')), exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ resource, readers: [reader] });
    const meter = provider.getMeter('test');
    const counter = meter.createCounter('jobs.done', { unit: '1', description: 'jobs' });
    const hist = meter.createHistogram('job.duration', { unit: 's' });
    for (let i = 0; i < 30; i++) {
      counter.add(1, { queue: `q${i % 6}`, status: i % 2 ? 'ok' : 'fail' });
      hist.record(i / 10, { queue: `q${i % 6}` });
    }
    await provider.forceFlush();
    await provider.shutdown();
    const m = await k.get(`/api/v1/metrics?service=${service}&sort=name&order=asc`);
    const byName = Object.fromEntries(m.body.items.map((i: any) => [i.name, i]));
    expect(byName['jobs.done']).toMatchObject({ type: 'sum', unit: '1', label_keys: ['queue', 'status'], series_estimate: 6 });
    expect(byName['job.duration']).toMatchObject({ type: 'histogram', unit: 's', label_keys: ['queue'], series_estimate: 6 });
    expect(byName['job.duration'].prometheus_series).toBeGreaterThan(6 * 2);
    const d = await k.get(`/api/v1/metrics/jobs.done?service=${service}`);
    expect(Object.fromEntries(d.body.items[0].labels.map((l: any) => [l.key, l.cardinality_estimate]))).toEqual({ queue: 6, status: 2 });
  });
});
