/** Everything on the API port that is not the API or /metrics: the web UI at `/`, the JSON index at `/api`, 404 for the rest. */
import { loadUiAssets } from '../ui/assets.js';
import { serveUi } from '../ui/http.js';
import type { TemplatedApp } from './uws.js';

const INDEX = JSON.stringify({
  name: 'keytally',
  ui: '/',
  api: ['/api/v1/services', '/api/v1/metrics', '/api/v1/spans', '/api/v1/logs', '/api/v1/logs/templates', '/api/v1/logs/severities', '/api/v1/keys', '/api/v1/changes', '/api/v1/series'],
  health: '/health',
  ready: '/ready',
  metrics: '/metrics',
});

export function serveStatic(app: TemplatedApp): void {
  app.get('/api', (res) => {
    res.writeHeader('Content-Type', 'application/json').end(INDEX);
  });
  serveUi(app, loadUiAssets());
  app.any('/*', (res, req) => {
    res.writeStatus('404 Not Found').writeHeader('Content-Type', 'application/json').end(JSON.stringify({ error: `no such path ${req.getUrl()}` }));
  });
}
