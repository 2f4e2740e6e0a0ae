/**
 * The API port: /health, /ready, /metrics and /api/v1/*. Queries run on the
 * reader thread; this handler only forwards the path and query string and
 * writes the answer, so the uWS thread never waits on SQL.
 */
import type { Config } from '../config.js';
import { listenUws } from './listen.js';
import type { Pipeline } from './pipeline.js';
import type { ListenSocket, TemplatedApp, Uws, HttpResponse } from './uws.js';
import { checkBearer } from './auth.js';
import type { MetricsExporter } from './metrics.js';
import { serveStatic } from './static.js';

function send(res: HttpResponse, status: string, type: string, body: string | Uint8Array, aborted: () => boolean): void {
  if (aborted()) return;
  res.cork(() => {
    res.writeStatus(status).writeHeader('Content-Type', type).end(body);
  });
}

const STATUS_TEXT: Record<number, string> = { 200: '200 OK', 400: '400 Bad Request', 401: '401 Unauthorized', 404: '404 Not Found', 405: '405 Method Not Allowed', 500: '500 Internal Server Error', 503: '503 Service Unavailable' };

export class ApiHttpServer {
  private app: TemplatedApp | undefined;
  private socket: ListenSocket | undefined;
  port = 0;

  constructor(
    private readonly uws: Uws,
    private readonly config: Config,
    private readonly pipeline: Pipeline,
    private readonly metrics: MetricsExporter,
  ) {}

  async start(): Promise<void> {
    const app = this.uws.App();
    this.app = app;
    app.get('/health', (res) => {
      res.writeHeader('Content-Type', 'application/json').end('{"status":"ok"}');
    });
    app.get('/ready', (res) => {
      let aborted = false;
      res.onAborted(() => (aborted = true));
      const r = this.pipeline.ready();
      if (!r.ready) return send(res, '503 Service Unavailable', 'application/json', JSON.stringify({ status: 'not ready', reason: r.reason }), () => aborted);
      // The store is reachable when the reader answers a trivial query.
      this.pipeline.query('/__ping', '').then((q) => {
        const ok = q.status === 200;
        send(res, ok ? '200 OK' : '503 Service Unavailable', 'application/json', JSON.stringify(ok ? { status: 'ready' } : { status: 'not ready', reason: 'store not reachable' }), () => aborted);
      });
    });
    app.get('/metrics', (res) => {
      let aborted = false;
      res.onAborted(() => (aborted = true));
      this.metrics.render().then(
        (text) => send(res, '200 OK', this.metrics.contentType, text, () => aborted),
        (err: Error) => send(res, '500 Internal Server Error', 'text/plain', err.message, () => aborted),
      );
    });
    app.get('/api/*', (res, req) => {
      const path = req.getUrl();
      const query = req.getQuery() ?? '';
      const auth = req.getHeader('authorization');
      let aborted = false;
      res.onAborted(() => (aborted = true));
      if (!checkBearer(this.config.authToken, auth)) {
        return send(res, '401 Unauthorized', 'application/json', '{"error":"missing or wrong bearer token"}', () => aborted);
      }
      this.pipeline.query(path, query).then((r) => {
        send(res, STATUS_TEXT[r.status] ?? `${r.status} Error`, 'application/json', r.body, () => aborted);
      });
    });
    app.any('/api/*', (res) => {
      res.writeStatus('405 Method Not Allowed').writeHeader('Content-Type', 'application/json').end('{"error":"the API is read-only: use GET"}');
    });
    serveStatic(app);
    this.socket = await listenUws(this.uws, app, this.config.api, 'the API', '--api');
    this.port = this.uws.us_socket_local_port(this.socket);
  }

  stop(): void {
    if (this.socket) this.uws.us_listen_socket_close(this.socket);
    this.socket = undefined;
  }
}
