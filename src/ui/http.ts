/**
 * Serves the web UI on the API listener: every page path answers with the
 * same index.html (the app routes in the browser), `/ui/*` with its modules
 * and the vendored libraries. Nothing here reads the store: the app gets its
 * data from the public /api/v1 routes like any other client, so the UI can
 * show nothing a script could not fetch. Static files need no token (they
 * hold no data); the API behind them does.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from '../server/uws.js';
import type { Asset, UiAssets } from './assets.js';

/** The app's pages (src/ui/static/app.js routes them). `/metrics` stays Prometheus's, so the metric page is `/metric`. */
export const UI_PAGES = ['/', '/service', '/templates', '/keys', '/metric', '/changes'] as const;

function send(res: HttpResponse, req: HttpRequest, a: Asset, csp: string): void {
  const notModified = req.getHeader('if-none-match') === a.etag;
  res.cork(() => {
    res.writeStatus(notModified ? '304 Not Modified' : '200 OK');
    res.writeHeader('Content-Type', a.type);
    res.writeHeader('ETag', a.etag);
    // Revalidate every load (cheap: 304) so an upgraded keytally never runs a stale mix of modules.
    res.writeHeader('Cache-Control', 'no-cache');
    res.writeHeader('Content-Security-Policy', csp);
    res.writeHeader('X-Content-Type-Options', 'nosniff');
    res.writeHeader('Referrer-Policy', 'no-referrer');
    res.writeHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (notModified) res.endWithoutBody();
    else res.end(a.body);
  });
}

export function serveUi(app: TemplatedApp, assets: UiAssets): void {
  for (const page of UI_PAGES) app.get(page, (res, req) => send(res, req, assets.index, assets.csp));
  app.get('/ui/*', (res, req) => {
    const a = assets.files.get(req.getUrl());
    if (a) return send(res, req, a, assets.csp);
    res.writeStatus('404 Not Found').writeHeader('Content-Type', 'text/plain; charset=utf-8').end('not found');
  });
}
