/**
 * Synthetic OTLP traffic for the load benchmark: requests in the OTLP/JSON
 * object shape (camelCase, 64-bit integers as strings, trace and span ids as
 * Uint8Array so the encoder can write them as bytes or hex).
 *
 * What it models, so that the sidecar does realistic work per record:
 * - 40 services with skewed volume (a few noisy ones), each with its own
 *   hosts, pods and version in the resource;
 * - log bodies from 48 templates with variable fields (ids, IPs, durations,
 *   paths, users), each service using a skewed subset, with the severity the
 *   template implies; a few bodies are maps (kvlist) or JSON strings;
 * - metrics of every OTLP type with realistic label sets, one of them with a
 *   high-cardinality label (customer.id);
 * - spans of every kind with HTTP, DB and messaging attributes, some with
 *   exception events and error status.
 *
 * Every request holds exactly the number of records asked for (log records,
 * metric data points or spans), which is what the sidecar counts.
 * Deterministic for a seed.
 */
import type { Signal } from '../../src/model/otlp.js';
import { kv, type AttrValue } from '../otlp-reference.js';

export type Obj = Record<string, unknown>;

/** mulberry32: small, fast, deterministic. */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) | 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += ((this.next() * 0x100000000) >>> 0).toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  ip(): string {
    return `10.${this.int(256)}.${this.int(256)}.${1 + this.int(254)}`;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** Picks index i with weight 1/(i+1)^s: a few items dominate, as in real traffic. */
export class Zipf {
  private readonly cum: number[] = [];
  constructor(n: number, s = 1.1) {
    let total = 0;
    for (let i = 0; i < n; i++) this.cum.push((total += 1 / Math.pow(i + 1, s)));
    for (let i = 0; i < n; i++) this.cum[i]! /= total;
  }
  pick(r: Rng): number {
    const x = r.next();
    let lo = 0;
    let hi = this.cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// ------------------------------------------------------------------ services

const BASE_SERVICES = [
  'checkout', 'cart', 'payments', 'frontend', 'auth', 'search', 'catalog', 'shipping', 'inventory', 'email',
  'recommendation', 'ads', 'currency', 'quote', 'fraud-detection', 'accounting', 'notifications', 'billing', 'gateway', 'profile',
] as const;

export interface Service {
  name: string;
  resource: Record<string, AttrValue>[];
  templates: number[];
  templateZipf: Zipf;
  spanNames: SpanKindSpec[];
}

const ROUTES = ['/api/users/{id}', '/api/orders', '/api/orders/{id}', '/api/cart/{id}/items', '/health', '/login', '/api/products', '/api/products/{id}', '/api/search', '/checkout'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const STATUS = [200, 200, 200, 200, 201, 204, 301, 400, 401, 404, 500, 503];
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'oscar', 'peggy', 'trent', 'victor', 'walter'];
const TABLES = ['orders', 'users', 'products', 'carts', 'payments', 'sessions', 'inventory', 'shipments'];
const QUEUES = ['orders', 'payments', 'emails', 'shipments', 'audit'];

function makeServices(r: Rng, count: number): Service[] {
  const out: Service[] = [];
  for (let i = 0; i < count; i++) {
    const base = BASE_SERVICES[i % BASE_SERVICES.length]!;
    const name = i < BASE_SERVICES.length ? base : `${base}-worker`;
    const lang = r.pick(['java', 'go', 'nodejs', 'python', 'dotnet']);
    const version = `1.${r.int(20)}.${r.int(10)}`;
    // A service runs on a few pods; a request's resource is one of them.
    const resource: Record<string, AttrValue>[] = [];
    const pods = 2 + r.int(5);
    for (let p = 0; p < pods; p++) {
      resource.push({
        'service.name': name,
        'service.version': version,
        'service.namespace': 'shop',
        'deployment.environment.name': 'production',
        'telemetry.sdk.language': lang,
        'telemetry.sdk.name': 'opentelemetry',
        'host.name': `node-${r.int(12)}.cluster.local`,
        'k8s.pod.name': `${name}-${r.hex(10)}-${r.hex(5)}`,
        'k8s.namespace.name': 'shop',
        'cloud.region': r.pick(['eu-west-1', 'us-east-1']),
      });
    }
    // Each service logs with its own subset of the templates, skewed.
    const templates: number[] = [];
    const n = 8 + r.int(10);
    while (templates.length < n) {
      const t = r.int(LOG_TEMPLATES.length);
      if (!templates.includes(t)) templates.push(t);
    }
    const spanNames = SPAN_KINDS.filter(() => r.chance(0.6));
    if (spanNames.length === 0) spanNames.push(SPAN_KINDS[0]!);
    out.push({ name, resource, templates, templateZipf: new Zipf(n), spanNames });
  }
  return out;
}

// ------------------------------------------------------------------ logs

interface LogTemplate {
  severity: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
  body: (r: Rng) => string;
}

const SEVERITY_NUMBER = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 } as const;

const ms = (r: Rng) => `${r.int(2000)}ms`;
const LOG_TEMPLATES: LogTemplate[] = [
  { severity: 'INFO', body: (r) => `${r.pick(METHODS)} ${r.pick(ROUTES).replace('{id}', String(r.int(100000)))} completed with ${r.pick(STATUS)} in ${ms(r)}` },
  { severity: 'INFO', body: (r) => `User ${r.pick(USERS)}${r.int(1000)} logged in from ${r.ip()}` },
  { severity: 'WARN', body: (r) => `Failed login attempt for user ${r.pick(USERS)} from ${r.ip()} port ${1024 + r.int(60000)}` },
  { severity: 'DEBUG', body: (r) => `Cache miss for key session:${r.hex(16)} in shard ${r.int(32)}` },
  { severity: 'DEBUG', body: (r) => `Cache hit for key product:${r.int(50000)} ttl=${r.int(3600)}s` },
  { severity: 'WARN', body: (r) => `Connection pool exhausted, waiting ${ms(r)} (active=${r.int(50)}, idle=0, max=50)` },
  { severity: 'INFO', body: (r) => `Payment ${r.uuid()} authorised for EUR ${(r.next() * 500).toFixed(2)}` },
  { severity: 'ERROR', body: (r) => `Payment ${r.uuid()} declined: ${r.pick(['insufficient funds', 'card expired', 'fraud suspected', 'issuer unavailable'])}` },
  { severity: 'INFO', body: (r) => `Order ${r.int(10_000_000)} placed by customer ${r.int(200_000)} with ${1 + r.int(9)} items` },
  { severity: 'INFO', body: (r) => `Order ${r.int(10_000_000)} shipped via ${r.pick(['ups', 'dhl', 'fedex', 'post'])} tracking ${r.hex(12).toUpperCase()}` },
  { severity: 'ERROR', body: (r) => `Failed to connect to ${r.ip()}:${r.pick([5432, 6379, 9092, 3306])}: connection refused (attempt ${1 + r.int(5)} of 5)` },
  { severity: 'ERROR', body: (r) => `Timeout after ${ms(r)} calling ${r.pick(BASE_SERVICES)}.${r.pick(['Get', 'List', 'Create', 'Update'])}${r.pick(['Order', 'User', 'Cart', 'Quote'])}` },
  { severity: 'INFO', body: (r) => `Request ${r.uuid()} took ${ms(r)} status=${r.pick(STATUS)}` },
  { severity: 'DEBUG', body: (r) => `SQL SELECT * FROM ${r.pick(TABLES)} WHERE id = ${r.int(1_000_000)} returned ${r.int(100)} rows in ${ms(r)}` },
  { severity: 'INFO', body: (r) => `Scheduled job ${r.pick(['cleanup', 'reindex', 'report', 'sync', 'backup'])} started at 2025-0${1 + r.int(9)}-1${r.int(10)}T${10 + r.int(14)}:${10 + r.int(50)}:${10 + r.int(50)}Z` },
  { severity: 'INFO', body: (r) => `Scheduled job ${r.pick(['cleanup', 'reindex', 'report', 'sync', 'backup'])} finished in ${ms(r)} with exit code ${r.pick([0, 0, 0, 1, 2])}` },
  { severity: 'INFO', body: (r) => `User ${r.pick(USERS)}.${r.int(999)}@example.com changed password` },
  { severity: 'DEBUG', body: (r) => `Opening file /var/lib/${r.pick(['app', 'data', 'cache'])}/${r.hex(8)}.${r.pick(['json', 'bin', 'tmp'])} for writing` },
  { severity: 'WARN', body: (r) => `Disk usage on /data at ${70 + r.int(30)}% (${r.int(500)} GB of 500 GB)` },
  { severity: 'INFO', body: (r) => `Worker pool resized from ${r.int(32)} to ${r.int(32)} threads` },
  { severity: 'DEBUG', body: () => 'heartbeat ok' },
  { severity: 'INFO', body: (r) => `Starting service ${r.pick(BASE_SERVICES)} version 1.${r.int(20)}.${r.int(10)}` },
  { severity: 'INFO', body: (r) => `Stopping service ${r.pick(BASE_SERVICES)} after ${r.int(100000)}s uptime` },
  { severity: 'WARN', body: (r) => `GC pause ${ms(r)} young=${r.int(500)}MB old=${r.int(4000)}MB` },
  { severity: 'WARN', body: (r) => `Retrying request to ${r.pick(BASE_SERVICES)} in ${r.int(30)}s (attempt ${1 + r.int(5)})` },
  { severity: 'ERROR', body: (r) => `Unhandled exception in handler ${r.pick(ROUTES)}: java.lang.NullPointerException at com.shop.${r.pick(['Order', 'Cart', 'User'])}Service.process(${r.pick(['Order', 'Cart', 'User'])}Service.java:${r.int(900)})` },
  { severity: 'INFO', body: (r) => `Consumed message ${r.uuid()} from topic ${r.pick(QUEUES)} partition ${r.int(12)} offset ${r.int(10_000_000)}` },
  { severity: 'INFO', body: (r) => `Published event ${r.pick(['OrderCreated', 'OrderPaid', 'CartUpdated', 'UserSignedUp'])} id=${r.uuid()}` },
  { severity: 'DEBUG', body: (r) => `Feature flag ${r.pick(['new-checkout', 'dark-mode', 'fast-search', 'beta-ads'])} evaluated to ${r.pick(['true', 'false'])} for user ${r.int(200_000)}` },
  { severity: 'WARN', body: (r) => `Rate limit exceeded for client ${r.ip()} on ${r.pick(ROUTES)} (${r.int(1000)} req/min)` },
  { severity: 'INFO', body: (r) => `Session ${r.hex(32)} expired after ${r.int(3600)}s of inactivity` },
  { severity: 'ERROR', body: (r) => `Database deadlock detected on table ${r.pick(TABLES)}, transaction ${r.int(1_000_000)} rolled back` },
  { severity: 'INFO', body: (r) => `Cart ${r.uuid()} updated: added product ${r.int(50000)} quantity ${1 + r.int(5)}` },
  { severity: 'INFO', body: (r) => `Email sent to ${r.pick(USERS)}${r.int(10000)}@example.org template=${r.pick(['welcome', 'receipt', 'reset', 'shipping'])}` },
  { severity: 'DEBUG', body: (r) => `Resolved ${r.pick(BASE_SERVICES)}.shop.svc.cluster.local to ${r.ip()} in ${ms(r)}` },
  { severity: 'WARN', body: (r) => `Slow query on ${r.pick(TABLES)} took ${1000 + r.int(9000)}ms: SELECT count(*) FROM ${r.pick(TABLES)} WHERE created_at > $1` },
  { severity: 'INFO', body: (r) => `Search query "${r.pick(['shoes', 'laptop', 'phone case', 'coffee', 'book'])}" returned ${r.int(500)} results in ${ms(r)}` },
  { severity: 'INFO', body: (r) => `Quote ${r.int(1_000_000)} computed for ${1 + r.int(20)} items: ${(r.next() * 1000).toFixed(2)} USD` },
  { severity: 'FATAL', body: (r) => `Out of memory: heap usage ${90 + r.int(10)}% after full GC, shutting down pod ${r.hex(10)}` },
  { severity: 'ERROR', body: (r) => `TLS handshake failed with ${r.ip()}:443: certificate has expired` },
  { severity: 'INFO', body: (r) => `Inventory for product ${r.int(50000)} reserved: ${r.int(100)} units in warehouse ${r.pick(['AMS', 'FRA', 'DUB', 'IAD'])}` },
  { severity: 'TRACE', body: (r) => `enter ${r.pick(['validate', 'price', 'persist', 'notify'])}() args=${r.int(10)}` },
  { severity: 'TRACE', body: (r) => `exit ${r.pick(['validate', 'price', 'persist', 'notify'])}() after ${r.int(1000)}us` },
  { severity: 'INFO', body: (r) => `Health check ${r.pick(['liveness', 'readiness'])} passed in ${ms(r)}` },
  { severity: 'WARN', body: (r) => `Circuit breaker for ${r.pick(BASE_SERVICES)} is OPEN after ${r.int(50)} failures` },
  { severity: 'INFO', body: (r) => `Circuit breaker for ${r.pick(BASE_SERVICES)} is CLOSED` },
  { severity: 'DEBUG', body: (r) => `Loaded ${r.int(10000)} entries into cache ${r.pick(['products', 'prices', 'users'])} in ${ms(r)}` },
  { severity: 'INFO', body: (r) => `Config reloaded from /etc/${r.pick(BASE_SERVICES)}/config.yaml (${r.int(200)} keys)` },
];

function logRecord(r: Rng, svc: Service, t0: bigint): Obj {
  const tpl = LOG_TEMPLATES[svc.templates[svc.templateZipf.pick(r)]!]!;
  const message = tpl.body(r);
  const attrs: Record<string, AttrValue> = { 'thread.name': `worker-${r.int(16)}` };
  if (r.chance(0.7)) {
    attrs['http.request.method'] = r.pick(METHODS);
    attrs['http.route'] = r.pick(ROUTES);
    attrs['http.response.status_code'] = r.pick(STATUS);
  }
  // user.id: the high-cardinality log attribute.
  if (r.chance(0.5)) attrs['user.id'] = `u-${r.int(200_000)}`;
  if (r.chance(0.3)) attrs['code.function'] = r.pick(['handle', 'process', 'validate', 'persist', 'notify']);
  if (r.chance(0.1)) attrs['exception.type'] = r.pick(['java.io.IOException', 'TimeoutError', 'ValueError']);
  let body: Obj;
  const shape = r.next();
  if (shape < 0.05) {
    // Structured body (an SDK logging a map): the message field is mined, the key set kept.
    body = { kvlistValue: { values: kv({ msg: message, component: r.pick(['http', 'db', 'queue']), request_id: r.uuid() }) } };
  } else if (shape < 0.1) {
    body = { stringValue: JSON.stringify({ level: tpl.severity.toLowerCase(), msg: message, latency_ms: r.int(2000) }) };
  } else {
    body = { stringValue: message };
  }
  const traced = r.chance(0.6);
  return {
    timeUnixNano: String(t0 + BigInt(r.int(1_000_000_000))),
    observedTimeUnixNano: String(t0),
    severityNumber: SEVERITY_NUMBER[tpl.severity],
    severityText: tpl.severity,
    body,
    attributes: kv(attrs),
    ...(traced ? { traceId: r.bytes(16), spanId: r.bytes(8), flags: 1 } : {}),
  };
}

// ------------------------------------------------------------------ metrics

interface MetricSpec {
  name: string;
  type: 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';
  unit: string;
  description: string;
  monotonic?: boolean;
  labels: (r: Rng) => Record<string, AttrValue>;
}

const HTTP_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const METRICS: MetricSpec[] = [
  {
    name: 'http.server.request.duration', type: 'histogram', unit: 's', description: 'Duration of HTTP server requests.',
    labels: (r) => ({ 'http.request.method': r.pick(METHODS), 'http.route': r.pick(ROUTES), 'http.response.status_code': r.pick(STATUS), 'url.scheme': 'https' }),
  },
  {
    name: 'http.server.active_requests', type: 'sum', unit: '{request}', description: 'Number of active HTTP server requests.', monotonic: false,
    labels: (r) => ({ 'http.request.method': r.pick(METHODS), 'url.scheme': 'https' }),
  },
  {
    // The high-cardinality label: one series per customer, the classic bill surprise.
    name: 'app.orders.placed', type: 'sum', unit: '{order}', description: 'Orders placed.', monotonic: true,
    labels: (r) => ({ 'customer.id': `c-${r.int(100_000)}`, 'payment.method': r.pick(['card', 'paypal', 'invoice']), region: r.pick(['eu', 'us', 'apac']) }),
  },
  { name: 'process.cpu.time', type: 'sum', unit: 's', description: 'CPU time of the process.', monotonic: true, labels: (r) => ({ 'cpu.mode': r.pick(['user', 'system']) }) },
  { name: 'process.memory.usage', type: 'gauge', unit: 'By', description: 'Resident memory.', labels: () => ({}) },
  {
    name: 'db.client.connection.count', type: 'gauge', unit: '{connection}', description: 'Connections in the pool by state.',
    labels: (r) => ({ 'db.client.connection.pool.name': r.pick(['primary', 'replica']), 'db.client.connection.state': r.pick(['idle', 'used']) }),
  },
  {
    name: 'jvm.gc.duration', type: 'histogram', unit: 's', description: 'Duration of JVM garbage collections.',
    labels: (r) => ({ 'jvm.gc.name': r.pick(['G1 Young Generation', 'G1 Old Generation']), 'jvm.gc.action': r.pick(['end of minor GC', 'end of major GC']) }),
  },
  {
    name: 'rpc.server.duration', type: 'exponential_histogram', unit: 'ms', description: 'Duration of inbound RPCs.',
    labels: (r) => ({ 'rpc.system': 'grpc', 'rpc.service': `shop.${r.pick(['Order', 'Cart', 'User', 'Quote'])}Service`, 'rpc.method': r.pick(['Get', 'List', 'Create', 'Update', 'Delete']) }),
  },
  {
    name: 'messaging.process.duration', type: 'summary', unit: 's', description: 'Time to process a message.',
    labels: (r) => ({ 'messaging.system': 'kafka', 'messaging.destination.name': r.pick(QUEUES) }),
  },
  {
    name: 'system.network.io', type: 'sum', unit: 'By', description: 'Network bytes.', monotonic: true,
    labels: (r) => ({ 'network.io.direction': r.pick(['transmit', 'receive']), 'network.interface.name': r.pick(['eth0', 'eth1', 'lo']) }),
  },
  { name: 'app.queue.depth', type: 'gauge', unit: '{message}', description: 'Messages waiting.', labels: (r) => ({ queue: r.pick(QUEUES) }) },
  {
    name: 'app.cache.requests', type: 'sum', unit: '{request}', description: 'Cache lookups.', monotonic: true,
    labels: (r) => ({ cache: r.pick(['products', 'prices', 'users']), result: r.pick(['hit', 'miss']) }),
  },
];
const METRIC_ZIPF = new Zipf(METRICS.length, 0.8);

function dataPoint(r: Rng, m: MetricSpec, t0: bigint): Obj {
  const base = { attributes: kv(m.labels(r)), startTimeUnixNano: String(t0 - 60_000_000_000n), timeUnixNano: String(t0) };
  switch (m.type) {
    case 'gauge':
      return { ...base, asDouble: r.next() * 1000 };
    case 'sum':
      return { ...base, asInt: String(r.int(1_000_000)) };
    case 'histogram': {
      const counts = HTTP_BOUNDS.map(() => r.int(100));
      counts.push(r.int(5));
      const count = counts.reduce((a, b) => a + b, 0);
      return { ...base, count: String(count), sum: r.next() * count, explicitBounds: HTTP_BOUNDS, bucketCounts: counts.map(String), min: 0.001, max: 12 };
    }
    case 'exponential_histogram': {
      const n = 4 + r.int(12);
      return {
        ...base, count: String(n * 10), sum: r.next() * 1000, scale: 3, zeroCount: '0',
        positive: { offset: r.int(20), bucketCounts: Array.from({ length: n }, () => String(r.int(20))) },
      };
    }
    case 'summary':
      return {
        ...base, count: String(r.int(10000)), sum: r.next() * 100,
        quantileValues: [0.5, 0.9, 0.99].map((quantile) => ({ quantile, value: r.next() * quantile })),
      };
  }
}

function metricObject(m: MetricSpec, points: Obj[]): Obj {
  const base = { name: m.name, unit: m.unit, description: m.description };
  switch (m.type) {
    case 'gauge':
      return { ...base, gauge: { dataPoints: points } };
    case 'sum':
      return { ...base, sum: { dataPoints: points, aggregationTemporality: 2, isMonotonic: m.monotonic ?? false } };
    case 'histogram':
      return { ...base, histogram: { dataPoints: points, aggregationTemporality: 2 } };
    case 'exponential_histogram':
      return { ...base, exponentialHistogram: { dataPoints: points, aggregationTemporality: 2 } };
    case 'summary':
      return { ...base, summary: { dataPoints: points } };
  }
}

// ------------------------------------------------------------------ traces

interface SpanKindSpec {
  kind: number;
  name: (r: Rng) => string;
  attrs: (r: Rng) => Record<string, AttrValue>;
}

const SPAN_KINDS: SpanKindSpec[] = [
  {
    kind: 2, // SERVER
    name: (r) => `${r.pick(METHODS)} ${r.pick(ROUTES)}`,
    attrs: (r) => ({
      'http.request.method': r.pick(METHODS), 'http.route': r.pick(ROUTES), 'http.response.status_code': r.pick(STATUS),
      'url.path': r.pick(ROUTES).replace('{id}', String(r.int(100_000))), 'client.address': r.ip(),
      'user_agent.original': r.pick(['Mozilla/5.0 (X11; Linux x86_64)', 'okhttp/4.12.0', 'curl/8.5.0', 'python-requests/2.32']),
    }),
  },
  {
    kind: 3, // CLIENT (database)
    name: (r) => `${r.pick(['SELECT', 'INSERT', 'UPDATE'])} shop.${r.pick(TABLES)}`,
    attrs: (r) => ({ 'db.system': 'postgresql', 'db.namespace': 'shop', 'db.operation.name': r.pick(['SELECT', 'INSERT', 'UPDATE']), 'server.address': `pg-${r.int(3)}.db`, 'server.port': 5432 }),
  },
  {
    kind: 3, // CLIENT (HTTP)
    name: (r) => `${r.pick(METHODS)}`,
    attrs: (r) => ({ 'http.request.method': r.pick(METHODS), 'server.address': `${r.pick(BASE_SERVICES)}.shop.svc`, 'url.full': `http://${r.pick(BASE_SERVICES)}/api/${r.int(100_000)}`, 'http.response.status_code': r.pick(STATUS) }),
  },
  { kind: 1, name: (r) => r.pick(['render', 'validate', 'price', 'serialize']), attrs: (r) => ({ 'code.function': r.pick(['render', 'validate', 'price']), items: r.int(50) }) },
  {
    kind: 4, // PRODUCER
    name: (r) => `publish ${r.pick(QUEUES)}`,
    attrs: (r) => ({ 'messaging.system': 'kafka', 'messaging.destination.name': r.pick(QUEUES), 'messaging.message.id': r.uuid() }),
  },
  {
    kind: 5, // CONSUMER
    name: (r) => `process ${r.pick(QUEUES)}`,
    attrs: (r) => ({ 'messaging.system': 'kafka', 'messaging.destination.name': r.pick(QUEUES), 'messaging.kafka.offset': r.int(10_000_000), 'messaging.consumer.group.name': 'shop' }),
  },
];

function span(r: Rng, svc: Service, t0: bigint, traceId: Uint8Array): Obj {
  const k = r.pick(svc.spanNames);
  const start = t0 + BigInt(r.int(1_000_000_000));
  const error = r.chance(0.03);
  const events = error
    ? [{ name: 'exception', timeUnixNano: String(start), attributes: kv({ 'exception.type': r.pick(['IOException', 'TimeoutError']), 'exception.message': `failed after ${r.int(5000)}ms` }) }]
    : r.chance(0.05)
      ? [{ name: r.pick(['cache.miss', 'retry', 'message.sent']), timeUnixNano: String(start), attributes: kv({ attempt: r.int(5) }) }]
      : [];
  return {
    traceId,
    spanId: r.bytes(8),
    parentSpanId: r.chance(0.7) ? r.bytes(8) : new Uint8Array(0),
    name: k.name(r),
    kind: k.kind,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + BigInt(r.int(500_000_000))),
    attributes: kv({ ...k.attrs(r), ...(r.chance(0.4) ? { 'user.id': `u-${r.int(200_000)}`, 'enduser.role': r.pick(['guest', 'member', 'admin']) } : {}) }),
    events,
    status: error ? { code: 2, message: 'internal error' } : { code: r.chance(0.2) ? 1 : 0 },
  };
}

// ------------------------------------------------------------------ requests

export interface GeneratedRequest {
  signal: Signal;
  /** OTLP/JSON-shaped request object. */
  request: Obj;
  /** Log records, metric data points or spans in it. */
  records: number;
}

/**
 * Splits `total` records over 1–3 resources (a collector batching several
 * services, or an SDK with a few pods' worth of data).
 */
function split(r: Rng, total: number): number[] {
  const parts = total >= 3 ? 1 + r.int(3) : 1;
  const out: number[] = [];
  let left = total;
  for (let i = 0; i < parts - 1; i++) {
    const n = Math.max(1, Math.floor(left * (0.3 + r.next() * 0.4)));
    out.push(n);
    left -= n;
  }
  out.push(left);
  return out;
}

export class TrafficGenerator {
  private readonly r: Rng;
  private readonly services: Service[];
  private readonly serviceZipf: Zipf;

  constructor(seed = 1, serviceCount = 40) {
    this.r = new Rng(seed);
    this.services = makeServices(this.r, serviceCount);
    this.serviceZipf = new Zipf(serviceCount, 1.0);
  }

  get serviceNames(): string[] {
    return this.services.map((s) => s.name);
  }

  private pickService(): Service {
    return this.services[this.serviceZipf.pick(this.r)]!;
  }

  private resource(svc: Service): Obj {
    return { attributes: kv(this.r.pick(svc.resource)) };
  }

  private now(): bigint {
    return BigInt(Date.now()) * 1_000_000n;
  }

  logs(records: number): GeneratedRequest {
    const t0 = this.now();
    const resourceLogs = split(this.r, records).map((n) => {
      const svc = this.pickService();
      const logRecords: Obj[] = [];
      for (let i = 0; i < n; i++) logRecords.push(logRecord(this.r, svc, t0));
      return { resource: this.resource(svc), scopeLogs: [{ scope: { name: `com.shop.${svc.name}`, version: '1.0.0' }, logRecords }] };
    });
    return { signal: 'logs', request: { resourceLogs }, records };
  }

  metrics(records: number): GeneratedRequest {
    const t0 = this.now();
    const resourceMetrics = split(this.r, records).map((n) => {
      const svc = this.pickService();
      // Data points grouped by metric, as an SDK's reader exports them.
      const byMetric = new Map<number, Obj[]>();
      for (let i = 0; i < n; i++) {
        const idx = METRIC_ZIPF.pick(this.r);
        let pts = byMetric.get(idx);
        if (!pts) byMetric.set(idx, (pts = []));
        pts.push(dataPoint(this.r, METRICS[idx]!, t0));
      }
      const metrics = [...byMetric].map(([idx, pts]) => metricObject(METRICS[idx]!, pts));
      return { resource: this.resource(svc), scopeMetrics: [{ scope: { name: 'io.opentelemetry.runtime', version: '2.0.0' }, metrics }] };
    });
    return { signal: 'metrics', request: { resourceMetrics }, records };
  }

  traces(records: number): GeneratedRequest {
    const t0 = this.now();
    const resourceSpans = split(this.r, records).map((n) => {
      const svc = this.pickService();
      const spans: Obj[] = [];
      let traceId = this.r.bytes(16);
      for (let i = 0; i < n; i++) {
        // A handful of spans share a trace.
        if (i % 8 === 0) traceId = this.r.bytes(16);
        spans.push(span(this.r, svc, t0, traceId));
      }
      return { resource: this.resource(svc), scopeSpans: [{ scope: { name: `com.shop.${svc.name}`, version: '1.0.0' }, spans }] };
    });
    return { signal: 'traces', request: { resourceSpans }, records };
  }

  request(signal: Signal, records: number): GeneratedRequest {
    return signal === 'logs' ? this.logs(records) : signal === 'metrics' ? this.metrics(records) : this.traces(records);
  }
}
