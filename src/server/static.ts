/** Everything else on the API port: a short index pointing at the API (the web UI is a later issue). */
import type { TemplatedApp } from './uws.js';

const INDEX = JSON.stringify({
  name: 'keytally',
  api: ['/api/v1/services', '/api/v1/metrics', '/api/v1/spans', '/api/v1/logs', '/api/v1/logs/templates', '/api/v1/keys'],
  health: '/health',
  ready: '/ready',
  metrics: '/metrics',
});

export function serveStatic(app: TemplatedApp): void {
  app.get('/', (res) => {
    res.writeHeader('Content-Type', 'application/json').end(INDEX);
  });
  app.any('/*', (res, req) => {
    res.writeStatus('404 Not Found').writeHeader('Content-Type', 'application/json').end(JSON.stringify({ error: `no such path ${req.getUrl()}` }));
  });
}
