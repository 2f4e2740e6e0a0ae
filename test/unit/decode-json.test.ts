import { SeverityNumber } from '@opentelemetry/api-logs';
import { JsonLogsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/decode/errors.js';
import { decodeRequest } from '../../src/decode/index.js';
import * as json from '../../src/decode/otlp-json.js';
import * as proto from '../../src/decode/otlp-proto.js';
import { Adapter, Gen, LogsReq, MetricsReq, TracesReq, encode, toNumbersAndNames, toOtlpJson, toSnake, withoutSizes } from '../helpers/otlp-fixtures.js';

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

const SIGNALS = [
  { name: 'logs', type: LogsReq, gen: (g: Gen) => g.logs(), proto: proto.decodeLogs, json: json.decodeLogs },
  { name: 'metrics', type: MetricsReq, gen: (g: Gen) => g.metrics(), proto: proto.decodeMetrics, json: json.decodeMetrics },
  { name: 'traces', type: TracesReq, gen: (g: Gen) => g.traces(), proto: proto.decodeTraces, json: json.decodeTraces },
] as const;

describe('OTLP/JSON decodes to the same objects as the protobuf path', () => {
  for (const s of SIGNALS) {
    it(`${s.name}: lowerCamelCase, int64 as strings (200 requests)`, () => {
      for (let seed = 1; seed <= 200; seed++) {
        const bytes = encode(s.type, s.gen(new Gen(seed)));
        const expected = s.proto(bytes);
        expect(s.json(enc(toOtlpJson(s.type, bytes))), `seed ${seed}`).toEqual(expected);
      }
    });

    it(`${s.name}: snake_case field names`, () => {
      for (let seed = 300; seed < 360; seed++) {
        const bytes = encode(s.type, s.gen(new Gen(seed)));
        expect(s.json(enc(toSnake(toOtlpJson(s.type, bytes)))), `seed ${seed}`).toEqual(s.proto(bytes));
      }
    });

    it(`${s.name}: int64 as numbers and enums as names`, () => {
      for (let seed = 400; seed < 460; seed++) {
        const bytes = encode(s.type, s.gen(new Gen(seed)));
        expect(s.json(enc(toNumbersAndNames(toOtlpJson(s.type, bytes)))), `seed ${seed}`).toEqual(s.proto(bytes));
      }
    });

    it(`${s.name}: custom limits behave like the protobuf path`, () => {
      const limits = { maxAttributes: 3, maxKeyLength: 4, maxValueLength: 9 };
      for (let seed = 500; seed < 540; seed++) {
        const bytes = encode(s.type, s.gen(new Gen(seed)));
        const got = s.json(enc(toOtlpJson(s.type, bytes)), limits);
        expect(got, `seed ${seed}`).toEqual(s.proto(bytes, limits));
      }
    });
  }

  it('matches the independent adapter too (not only the protobuf decoder)', () => {
    const bytes = encode(LogsReq, new Gen(77).logs());
    expect(json.decodeLogs(enc(toOtlpJson(LogsReq, bytes)))).toEqual(new Adapter().logs(LogsReq.decode(bytes)));
  });

  it('decodeRequest dispatches to JSON', () => {
    const bytes = encode(TracesReq, new Gen(5).traces());
    expect(decodeRequest('traces', 'json', enc(toOtlpJson(TracesReq, bytes)))).toEqual(proto.decodeTraces(bytes));
  });
});

describe('real OpenTelemetry SDK serializers', () => {
  it('traces: the SDK protobuf and JSON encodings decode to the same objects', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('test-scope');
    for (let i = 0; i < 5; i++) {
      const span = tracer.startSpan(`op-${i % 2}`, { kind: i % 3, attributes: { n: i, s: 'x'.repeat(i), arr: [1, 2, i], ok: i % 2 === 0, ratio: i / 3 } });
      span.addEvent('retry', { attempt: i });
      span.setStatus({ code: i % 3 });
      span.end();
    }
    const spans = exporter.getFinishedSpans();
    const fromProto = proto.decodeTraces(ProtobufTraceSerializer.serializeRequest(spans)!);
    expect(json.decodeTraces(JsonTraceSerializer.serializeRequest(spans)!)).toEqual(fromProto);
    const decoded = fromProto.resources[0]!.scopes[0]!;
    expect(decoded.scopeName).toBe('test-scope');
    expect(decoded.spans).toHaveLength(5);
    expect(withoutSizes(decoded.spans[4]!.attrs)).toEqual([
      { key: 'n', value: '4' },
      { key: 's', value: 'xxxx' },
      { key: 'arr', value: '[1,2,4]' },
      { key: 'ok', value: 'true' },
      { key: 'ratio', value: String(4 / 3) },
    ]);
    expect(withoutSizes(decoded.spans[4]!.events)).toEqual([{ name: 'retry', attrs: [{ key: 'attempt', value: '4' }] }]);
    expect(decoded.spans[4]!.kind).toBe(2); // SDK kind 1 (SERVER) is OTLP 2
    expect(Math.abs(decoded.spans[4]!.startUnixMs - Date.now())).toBeLessThan(60_000);
  });

  it('logs: the SDK protobuf and JSON encodings decode to the same objects', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    const logger = provider.getLogger('log-scope');
    logger.emit({ body: 'plain line 1', severityNumber: SeverityNumber.INFO, severityText: 'INFO', attributes: { user: 'u1' } });
    logger.emit({ body: { msg: 'structured', n: 2 }, severityNumber: SeverityNumber.ERROR });
    await provider.forceFlush();
    const records = exporter.getFinishedLogRecords();
    expect(records).toHaveLength(2);
    const fromProto = proto.decodeLogs(ProtobufLogsSerializer.serializeRequest(records)!);
    expect(json.decodeLogs(JsonLogsSerializer.serializeRequest(records)!)).toEqual(fromProto);
    const recs = fromProto.resources[0]!.scopes[0]!.records;
    expect(withoutSizes(recs.map((r) => [r.severityNumber, r.body]))).toEqual([
      [9, 'plain line 1'],
      [17, [{ key: 'msg', value: 'structured' }, { key: 'n', value: '2' }]],
    ]);
  });
});

describe('OTLP/JSON details', () => {
  it('accepts a BOM, null fields, unknown fields and empty objects', () => {
    const text = '\ufeff' + JSON.stringify({ resourceLogs: [{ resource: null, scopeLogs: [{ scope: { name: 's', extra: 1 }, logRecords: [{ body: null, future: { x: 1 } }, {}] }], unknown: 'x' }] });
    expect(json.decodeLogs(enc(text))).toEqual({
      resources: [
        {
          attrs: [],
          scopes: [
            {
              scopeName: 's',
              records: [
                // null and unknown fields have no protobuf bytes: both records are empty messages.
                { timeUnixMs: 0, severityNumber: 0, severityText: '', body: undefined, attrs: [], bytes: 0 },
                { timeUnixMs: 0, severityNumber: 0, severityText: '', body: undefined, attrs: [], bytes: 0 },
              ],
            },
          ],
        },
      ],
      truncated: 0,
      truncatedStrings: 0,
    });
  });

  it('int64 and double spellings normalise to one canonical text', () => {
    const attrs = [
      { key: 'a', value: { intValue: '007' } },
      { key: 'b', value: { intValue: '-0' } },
      { key: 'c', value: { intValue: 12 } },
      { key: 'd', value: { intValue: '-9223372036854775808' } },
      { key: 'e', value: { doubleValue: 'Infinity' } },
      { key: 'f', value: { doubleValue: '1.50' } },
      { key: 'g', value: { bytesValue: '-_8' } }, // URL-safe base64 of fb ff
    ];
    const got = json.decodeTraces(enc({ resourceSpans: [{ resource: { attributes: attrs } }] }));
    expect(got.resources[0]!.attrs.map((a) => a.value)).toEqual(['7', '0', '12', '-9223372036854775808', 'Infinity', '1.5', '+/8=']);
  });

  it('times: exact from strings, also from numbers', () => {
    const got = json.decodeLogs(
      enc({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '1700000000123999999' }, { observedTimeUnixNano: 1700000000 * 1e9 }, { timeUnixNano: '999' }] }] }] }),
    );
    expect(got.resources[0]!.scopes[0]!.records.map((r) => r.timeUnixMs)).toEqual([1700000000123, 1700000000000, 0]);
  });

  it('a 10 KB service.name is cut to 4096', () => {
    const got = json.decodeLogs(enc({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'x'.repeat(10240) } }] } }] }));
    expect(got.resources[0]!.attrs[0]!.value).toHaveLength(4096);
    expect(got.truncatedStrings).toBe(1);
  });

  it.each([
    ['not JSON', '{"resourceLogs": [', /invalid JSON/],
    ['empty body', '', /invalid JSON/],
    ['top level array', '[]', /request: expected an object, got array/],
    ['resourceLogs not an array', { resourceLogs: 5 }, /resourceLogs: expected an array, got number/],
    ['scopeLogs not an array', { resourceLogs: [{ scopeLogs: {} }] }, /scopeLogs: expected an array, got object/],
    ['record not an object', { resourceLogs: [{ scopeLogs: [{ logRecords: ['x'] }] }] }, /logRecords\[\]: expected an object, got string/],
    ['severityText a number', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityText: 5 }] }] }] }, /severityText: expected a string/],
    ['bad timeUnixNano', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '12ab' }] }] }] }, /timeUnixNano/],
    ['negative timeUnixNano', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: -5 }] }] }] }, /timeUnixNano/],
    ['unknown enum name', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 'LOUD' }] }] }] }, /severityNumber: unknown enum value/],
    ['attributes an object', { resourceLogs: [{ resource: { attributes: {} } }] }, /resource.attributes: expected an array/],
    ['key a number', { resourceLogs: [{ resource: { attributes: [{ key: 1 }] } }] }, /attributes\[\].key: expected a string/],
    ['intValue not integer', { resourceLogs: [{ resource: { attributes: [{ key: 'k', value: { intValue: '1.5' } }] } }] }, /intValue: expected an int64/],
    ['intValue out of range', { resourceLogs: [{ resource: { attributes: [{ key: 'k', value: { intValue: '9223372036854775808' } }] } }] }, /int64 range/],
    ['boolValue a string', { resourceLogs: [{ resource: { attributes: [{ key: 'k', value: { boolValue: 'true' } }] } }] }, /boolValue: expected a boolean/],
    ['doubleValue garbage', { resourceLogs: [{ resource: { attributes: [{ key: 'k', value: { doubleValue: 'abc' } }] } }] }, /doubleValue: expected a double/],
    ['value a string', { resourceLogs: [{ resource: { attributes: [{ key: 'k', value: 'v' }] } }] }, /value: expected an object, got string/],
  ])('%s → DecodeError naming it', (_name, body, message) => {
    const call = () => json.decodeLogs(enc(body));
    expect(call).toThrow(DecodeError);
    expect(call).toThrow(message);
  });

  it.each([
    ['gauge not an object', { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ gauge: [] }] }] }] }, /metrics\[\].gauge: expected an object/],
    ['explicitBounds not an array', { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ histogram: { dataPoints: [{ explicitBounds: 3 }] } }] }] }] }, /explicitBounds/],
    ['isMonotonic a string', { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ sum: { isMonotonic: 'yes' } }] }] }] }, /isMonotonic/],
  ])('metrics: %s → DecodeError', (_n, body, message) => {
    expect(() => json.decodeMetrics(enc(body))).toThrow(message);
  });

  it.each([
    ['kind a float', { resourceSpans: [{ scopeSpans: [{ spans: [{ kind: 1.5 }] }] }] }, /kind: expected an int32/],
    ['events not an array', { resourceSpans: [{ scopeSpans: [{ spans: [{ events: 'x' }] }] }] }, /events: expected an array/],
    ['status code bad', { resourceSpans: [{ scopeSpans: [{ spans: [{ status: { code: true } }] }] }] }, /status.code: expected an integer/],
  ])('traces: %s → DecodeError', (_n, body, message) => {
    expect(() => json.decodeTraces(enc(body))).toThrow(message);
  });

  it('deep AnyValue nesting → DecodeError', () => {
    // Built as text: JSON.stringify itself overflows the stack on this object.
    let v = '{"stringValue":"x"}';
    for (let i = 0; i < 100_000; i++) v = '{"arrayValue":{"values":[' + v + ']}}';
    const text = '{"resourceLogs":[{"resource":{"attributes":[{"key":"k","value":' + v + '}]}}]}';
    expect(() => json.decodeLogs(enc(text))).toThrow(/nested deeper/);
  });
});
