/**
 * The web UI in a real browser: Debian's Chromium driven by playwright-core
 * (bench/ui/browser.ts; fails, never skips, when Chromium cannot start),
 * against keytally filled by the OpenTelemetry SDK with the known data of
 * bench/ui/fixture.ts. One browser and two servers for the whole file: the
 * known data, and an empty one behind --auth-token.
 *
 * Screenshots of every page go to $KEYTALLY_UI_SCREENSHOTS (default: a temp
 * folder, printed); with KEYTALLY_UI_DOCS=1 the overview and templates
 * shots are also written to docs/ for the README.
 */
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startBrowser, type Browser } from '../../bench/ui/browser.js';
import { fillKnown, sendLogs, XSS } from '../../bench/ui/fixture.js';
import { ROOT, startKeytally, type Keytally } from '../helpers/server.js';
import { checkContrast, checkLabels, tabOrder } from './a11y.js';
import { expectEstimateChart } from './estimate-chart.js';

const SHOTS = process.env['KEYTALLY_UI_SCREENSHOTS'] || mkdtempSync(join(tmpdir(), 'keytally-ui-screenshots-'));
mkdirSync(SHOTS, { recursive: true });

let k: Keytally;
let locked: Keytally;
let browser: Browser;
let page: Page;
/** Console errors and page errors of `page`, cleared by each test that reads them. */
let problems: string[] = [];

beforeAll(async () => {
  [k, locked, browser] = await Promise.all([
    startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5'] }),
    startKeytally({ args: ['--auth-token', 'letmein'] }),
    startBrowser(),
  ]);
  await fillKnown(k.otlpUrl);
  page = await browser.context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  console.log(`keytally UI screenshots: ${SHOTS}`);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([k?.stop(), locked?.stop()]);
  k?.cleanup();
  locked?.cleanup();
});

async function open(path: string): Promise<void> {
  await page.goto(`${k.apiUrl}${path}`);
  await page.locator('main h1').first().waitFor();
}

async function shot(name: string): Promise<string> {
  const file = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The text of each cell of a table's body rows. */
async function rows(tableId: string): Promise<string[][]> {
  return page.locator(`#${tableId} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as HTMLElement).innerText.trim())));
}

async function column(tableId: string, col: string): Promise<string[]> {
  return page.locator(`#${tableId} tbody td[data-col="${col}"]`).evaluateAll((tds) => tds.map((td) => (td as HTMLElement).innerText.trim().split('\n')[0]!));
}

/** Nothing the telemetry carried ran, and no element came from its markup. */
async function expectNoInjection(): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
  expect(await page.locator('#app img, #app script').count()).toBe(0);
}

/** The default window's start as the UI sends it (`from`: 24 h ago, rounded down to the minute). */
const from24h = () => Math.floor((Date.now() - 86_400_000) / 60_000) * 60_000;

function takeProblems(): string[] {
  const p = problems;
  problems = [];
  return p;
}

describe('web UI', () => {
  it('overview: exactly the known services and counts, the noisiest entries, markup as text', async () => {
    await open('/');
    await page.locator('#services-table tbody tr').first().waitFor();
    // Default rank: bytes, biggest first; then records per signal.
    const cols = await Promise.all(['name', 'log_records', 'spans', 'metric_points'].map((c) => column('services-table', c)));
    expect(cols[0]!.map((_, i) => cols.map((c) => c[i]))).toEqual([
      ['inventory', '162', '4', '6'],
      ['checkout', '44', '12', '50'],
      [XSS.service, '3', '0', '0'],
    ]);
    // Bytes are the API's, exactly (the cell's title), in readable units, with the share of all services.
    const api = (await k.get('/api/v1/services?sort=bytes&order=desc')).body.items;
    expect(api.every((s: any) => s.bytes > 0 && s.bytes === s.log_bytes + s.span_bytes + s.metric_bytes)).toBe(true);
    const titles = await page.locator('#services-table td[data-col="bytes"] span.bytes').evaluateAll((els) => els.map((e) => e.getAttribute('title')));
    expect(titles).toEqual(api.map((s: any) => `${s.bytes.toLocaleString('en-US')} bytes`));
    const logBytes = await page.locator('#services-table td[data-col="log_bytes"] span.bytes').evaluateAll((els) => els.map((e) => e.getAttribute('title')));
    expect(logBytes).toEqual(api.map((s: any) => `${s.log_bytes.toLocaleString('en-US')} bytes`));
    expect(await column('services-table', 'bytes')).toEqual(api.map((s: any) => `${s.bytes < 1024 ? `${s.bytes} B` : `${(s.bytes / 1024).toFixed(1)} KiB`} ${s.bytes_percentage >= 10 ? s.bytes_percentage.toFixed(1) : s.bytes_percentage.toPrecision(2)}%`));
    const stats = await page.locator('.stat').evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.replace(/\n/g, ' ')));
    expect(stats).toEqual(['Services 3', 'Log templates 6 active in the last 24h', 'Keys 169 active in the last 24h', 'Metrics 3 active in the last 24h', 'Span names 2 active in the last 24h']);
    const noisy = await page.locator('#noisiest-title + ul li').allInnerTexts();
    expect(noisy[0]).toMatch(/^most bytes: inventory \([\d.]+ KiB, [\d.]+% of all\)$/);
    expect(noisy[4]).toMatch(/^template: stock level checked \([\d.]+ KiB, [\d.]+% of inventory's log bytes; 150 records\)$/);
    expect([...noisy.slice(1, 4), ...noisy.slice(5)]).toEqual([
      'most log records: inventory (162)',
      'most spans: checkout (12)',
      'most metric points: checkout (50)',
      'key: user.id (~50 values, metric of checkout)',
      'metric: orders.placed (~50 series)',
    ]);
    expect(await page.getByRole('link', { name: XSS.service, exact: true }).count()).toBe(1);
    // Each service's sparkline is its bytes per step over the window (logs + traces + metrics from /api/v1/series):
    // they add up to the service's bytes in the window.
    // Sparklines load when they scroll into view.
    await page.locator('#services-table tbody tr').last().scrollIntoViewIfNeeded();
    await expect.poll(() => page.locator('#services-table td[data-col="trend"] canvas').count()).toBe(3);
    await page.evaluate(() => scrollTo(0, 0));
    const sparks = await page.locator('#services-table td[data-col="trend"] .spark').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(sparks).toEqual(api.map((s: any) => `${s.name} bytes: ${s.bytes < 1024 ? `${s.bytes} B` : `${(s.bytes / 1024).toFixed(1)} KiB`} in the window, peak ${s.bytes < 1024 ? `${s.bytes} B` : `${(s.bytes / 1024).toFixed(1)} KiB`} per step`));
    await expectNoInjection();
    await shot('overview');
    expect(takeProblems()).toEqual([]);
  });

  it('sorting is server-side, in the URL, and survives a reload', async () => {
    await open('/');
    await page.getByRole('button', { name: 'Spans', exact: true }).click();
    await page.waitForURL(/sort=spans&order=desc/);
    await expect.poll(() => column('services-table', 'name')).toEqual(['checkout', 'inventory', XSS.service]);
    await page.getByRole('button', { name: 'Spans', exact: true }).click();
    await page.waitForURL(/sort=spans&order=asc/);
    await expect.poll(() => column('services-table', 'name')).toEqual([XSS.service, 'inventory', 'checkout']);
    expect(await page.locator('#services-table th[aria-sort="ascending"]').innerText()).toContain('Spans');
    await page.reload();
    await expect.poll(() => column('services-table', 'name')).toEqual([XSS.service, 'inventory', 'checkout']);
    await page.getByRole('button', { name: 'Service' }).click();
    await expect.poll(() => column('services-table', 'name')).toEqual([XSS.service, 'checkout', 'inventory']);
    expect(takeProblems()).toEqual([]);
  });

  it('log templates: every template with count and %, filters, sort, the example', async () => {
    await open('/templates');
    await page.locator('#templates-table tbody tr').first().waitFor();
    const all = await rows('templates-table');
    // The page shows the last 24 h (the API's `from`): exactly what the API answers for that window.
    const apiTpl = (await k.get(`/api/v1/logs/templates?sort=count&order=desc&from=${from24h()}`)).body.items;
    const pct = (p: number) => `${p >= 10 ? p.toFixed(1) : p.toPrecision(2)}%`;
    expect(all.map((r) => [r[0]!.split('\n')[0], r[1], r[2], r[3], r[4]])).toEqual(apiTpl.map((t: any) => [t.template, t.service, t.severity, String(t.count), pct(t.percentage)]));
    // The known templates; counts as sent for those the miner never generalised. (The windowed count of one that
    // generalised, 'user <*> logged in from <IP>', misses the lines counted under its first, literal template:
    // the writer moves a merged template's stored counts but not its history buckets. Its all-time count, 8, is
    // checked on the service page.)
    expect(new Set(all.map((r) => r[0]!.split('\n')[0]))).toEqual(
      new Set(['stock level checked', 'order <NUM> shipped to warehouse <NUM>', 'cache miss for sku <NUM> in <NUM> ms', 'user <*> logged in from <IP>', 'payment declined for customer <NUM>', XSS.body]),
    );
    const count = Object.fromEntries(all.map((r) => [r[0]!.split('\n')[0], r[3]]));
    expect([count['stock level checked'], count['order <NUM> shipped to warehouse <NUM>'], count['cache miss for sku <NUM> in <NUM> ms'], count['payment declined for customer <NUM>'], count[XSS.body]]).toEqual(['150', '30', '12', '6', '3']);
    // Bytes and their share of the service's log bytes: the API's figures, exactly.
    const exact = (tableId: string, col: string) => page.locator(`#${tableId} td[data-col="${col}"] span.bytes`).evaluateAll((els) => els.map((e) => e.getAttribute('title')));
    expect(await exact('templates-table', 'bytes')).toEqual(apiTpl.map((t: any) => `${t.bytes.toLocaleString('en-US')} bytes`));
    expect(await column('templates-table', 'bytes_percentage')).toEqual(apiTpl.map((t: any) => `${t.bytes_percentage >= 10 ? t.bytes_percentage.toFixed(1) : t.bytes_percentage.toPrecision(2)}%`));
    // Sorting by bytes is the server's order.
    await page.getByRole('button', { name: 'Bytes', exact: true }).click();
    await page.waitForURL(/sort=bytes&order=desc/);
    const byBytes = (await k.get(`/api/v1/logs/templates?sort=bytes&order=desc&from=${from24h()}`)).body.items;
    await expect.poll(() => exact('templates-table', 'bytes')).toEqual(byBytes.map((t: any) => `${t.bytes.toLocaleString('en-US')} bytes`));
    await open('/templates');
    await page.locator('#templates-table tbody tr').first().waitFor();
    // Each template's sparkline adds up to its bytes in the window.
    await page.locator('#templates-table tbody tr').last().scrollIntoViewIfNeeded();
    await expect.poll(() => page.locator('#templates-table td[data-col="trend"] canvas').count()).toBe(6);
    const fmt = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);
    expect(await page.locator('#templates-table td[data-col="trend"] .spark').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')!.split(' in the window')[0]))).toEqual(
      apiTpl.map((t: any) => `template bytes: ${fmt(t.bytes)}`),
    );
    await page.evaluate(() => scrollTo(0, 0));
    // Parameters are set apart: a wildcard and masked tokens are their own elements.
    expect(await page.locator('#templates-table .tok-wild').count()).toBe(1);
    expect(await page.locator('#templates-table .tok-mask').count()).toBe(6);
    await shot('templates');
    // Filter by service (select), then severity, then text.
    await page.getByLabel('Service').selectOption('checkout');
    await page.waitForURL(/service=checkout/);
    await expect.poll(() => column('templates-table', 'template').then((t) => t.sort())).toEqual(['order <NUM> shipped to warehouse <NUM>', 'payment declined for customer <NUM>', 'user <*> logged in from <IP>']);
    // The severity choices are the service's own (/api/v1/logs/severities), in order.
    const sevs = (await k.get('/api/v1/logs/severities?service=checkout')).body.items.map((i: any) => i.severity);
    expect(sevs.length).toBeGreaterThan(1);
    await expect.poll(() => page.getByLabel('Severity').locator('option').allInnerTexts()).toEqual(['all', ...sevs]);
    await page.getByLabel('Severity').selectOption('INFO');
    await expect.poll(() => column('templates-table', 'template').then((t) => t.sort())).toEqual(['order <NUM> shipped to warehouse <NUM>', 'user <*> logged in from <IP>']);
    await page.getByLabel('Template contains').fill('logged');
    await page.waitForURL(/q=logged/);
    await expect.poll(() => column('templates-table', 'template')).toEqual(['user <*> logged in from <IP>']);
    await page.getByLabel('Template contains').fill('no such words');
    await expect.poll(() => page.locator('.table-empty').innerText()).toContain('No template matches');
    // Sort by count ascending over everything.
    await open('/templates?sort=count&order=asc');
    await expect.poll(() => column('templates-table', 'count')).toEqual(apiTpl.map((t: any) => String(t.count)).reverse());
    // The masked example is the body as received, as text.
    const row = page.locator('#templates-table tbody tr').first();
    await row.locator('summary').click();
    expect(await row.locator('.example-text').innerText()).toBe(XSS.body);
    await expectNoInjection();
    expect(takeProblems()).toEqual([]);
  });

  it('keys: by cardinality, filtered, paged on the server; over-limit keys stand out; markup as text', async () => {
    await open('/keys?service=inventory&scope=log');
    await page.locator('#keys-table tbody tr').first().waitFor();
    expect(await page.locator('.pager-info').innerText()).toBe('1–100 of 150');
    expect(await page.locator('#keys-table tbody tr').count()).toBe(100);
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.waitForURL(/offset=100/);
    await expect.poll(() => page.locator('.pager-info').innerText()).toBe('101–150 of 150');
    await expect.poll(() => page.locator('#keys-table:not([aria-busy]) tbody tr').count()).toBe(50);
    await page.goBack();
    await expect.poll(() => page.locator('.pager-info').innerText()).toBe('1–100 of 150');
    await open('/keys?service=checkout&over=20');
    await page.locator('#keys-table tbody tr').first().waitFor();
    expect(await column('keys-table', 'key')).toEqual(['user.id', 'order.id', 'user.id', 'tenant', 'region', 'service.name', 'service.version', 'http.route']);
    expect(await column('keys-table', 'cardinality_estimate')).toEqual(['50 over 20', '30 over 20', '12', '5', '3', '1', '1', '1']);
    expect(await page.locator('#keys-table tr.over').count()).toBe(2);
    const apiKeys = (await k.get('/api/v1/keys?service=checkout')).body.items;
    expect(await page.locator('#keys-table td[data-col="bytes"] span.bytes').evaluateAll((els) => els.map((e) => e.getAttribute('title')))).toEqual(
      apiKeys.map((x: any) => `${x.bytes.toLocaleString('en-US')} bytes`),
    );
    await page.getByLabel('Key contains').fill('user');
    await expect.poll(() => column('keys-table', 'key')).toEqual(['user.id', 'user.id']);
    await open(`/keys?service=${encodeURIComponent(XSS.service)}&sort=key&order=asc`);
    await page.locator('#keys-table tbody tr').first().waitFor();
    expect(await column('keys-table', 'key')).toEqual([XSS.key, XSS.scriptKey, 'service.name', 'service.version']);
    await expectNoInjection();
    await shot('keys');
    expect(takeProblems()).toEqual([]);
  });

  it('metric: labels by cardinality, the exploding label named', async () => {
    await open('/metric');
    await page.locator('#metrics-table tbody tr').first().waitFor();
    expect(await column('metrics-table', 'name')).toEqual(['orders.placed', 'stock.lookup.duration', 'stock.reserved SDK overflow']);
    expect(await page.locator('#metrics-table .badge-over').count()).toBe(1);
    await page.getByRole('link', { name: 'orders.placed' }).click();
    await page.waitForURL(/\/metric\?name=orders.placed&service=checkout/);
    await page.locator('#labels-table tbody tr').first().waitFor();
    expect((await rows('labels-table')).map((r) => [r[0], r[1]])).toEqual([
      ['user.id', '50'],
      ['region', '3'],
    ]);
    expect(await page.locator('.callout').innerText()).toBe('Label user.id has the most values: about 50, next is region with 3.');
    await expectEstimateChart(k, page);
    await shot('metric');
    await open('/metric?name=no.such.metric');
    await expect.poll(() => page.locator('.error').innerText()).toContain("HTTP 404: no metric 'no.such.metric'");
    expect(takeProblems().every((p) => /404/.test(p))).toBe(true);
  });

  it('service: totals, span names with error share, severities, tabs as URLs', async () => {
    await open('/service?name=checkout');
    await page.locator('.stat').first().waitFor();
    const stats = await page.locator('.stat').evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.replace(/\n/g, ' ')));
    const svc = (await k.get('/api/v1/services/checkout/overview')).body;
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    expect(stats).toEqual([
      `Bytes ${kib(svc.bytes)} ${svc.bytes_percentage.toFixed(1)}% of all services`,
      `Log records 44 ${kib(svc.totals.logs.bytes)}, 2 severities, 3 templates`,
      `Spans 12 ${kib(svc.totals.traces.bytes)}, 1 span names`,
      `Metric points 50 ${kib(svc.totals.metrics.bytes)}, 1 metrics`,
      'Series (estimate) 50 50 as Prometheus series',
      'Keys 8',
    ]);
    // Top lists rank by bytes, the API's order.
    expect(await column('top-templates', 'template')).toEqual(svc.top_templates.map((t: any) => t.template));
    expect(await column('top-spans', 'name')).toEqual(['POST /pay']);
    expect(await column('top-templates', 'count')).toEqual(['30', '8', '6']);
    await shot('service');
    await page.getByRole('link', { name: 'Spans', exact: true }).click();
    await page.waitForURL(/tab=spans/);
    await page.locator('#spans-table tbody tr').first().waitFor();
    expect(await column('spans-table', 'name')).toEqual(['POST /pay']);
    expect(await column('spans-table', 'status_error')).toEqual(['3 (25.0%)']);
    expect(await column('spans-table', 'attribute_keys')).toEqual(['http.route, user.id']);
    expect(await column('spans-table', 'bytes')).toEqual([`${kib(svc.totals.traces.bytes)} 100.0%`]);
    await page.getByRole('link', { name: 'Log severities' }).click();
    await page.locator('#logs-table tbody tr').first().waitFor();
    expect((await rows('logs-table')).map((r) => [r[0], r[1], r[3]])).toEqual([
      ['INFO', '38', 'order.id, tenant'],
      ['ERROR', '6', 'tenant'],
    ]);
    await open(`/service?name=${encodeURIComponent(XSS.service)}`);
    expect(await page.locator('main h1').innerText()).toBe(XSS.service);
    await expectNoInjection();
    await open('/service?name=nobody');
    await expect.poll(() => page.locator('.error').innerText()).toContain("HTTP 404: no service 'nobody'");
    expect(takeProblems().every((p) => /404/.test(p))).toBe(true);
  });

  it('what changed: everything is new in the window; the window switch is in the URL and kept across pages', async () => {
    await open('/changes');
    await page.locator('#new-templates tbody tr').first().waitFor();
    expect(await page.locator('#templates-title .count').innerText()).toBe('6');
    expect(await page.locator('#metrics-title .count').innerText()).toBe('3');
    expect(await page.locator('#spans-title .count').innerText()).toBe('2');
    expect(await page.locator('#keys-title .count').innerText()).toBe('100+');
    const changes = (await k.get(`/api/v1/changes?since=${from24h()}&limit=100`)).body;
    expect(await column('new-templates', 'count')).toEqual(changes.new.templates.map((t: any) => String(t.count)));
    // Nothing existed in the window before, so nothing fell.
    expect(await page.locator('#fell-title').innerText()).toBe('Fell most in bytes 0');
    await shot('changes');
    // What came with a version: from the service page's versions table.
    await open('/service?name=checkout');
    await page.getByRole('link', { name: 'changes since 1.0.0' }).click();
    await page.waitForURL(/\/changes\?service=checkout&version=1.0.0/);
    await expect.poll(() => column('new-templates', 'template')).toEqual(expect.arrayContaining(['user <*> logged in from <IP>', 'payment declined for customer <NUM>']));
    expect(await page.getByLabel('Since version of checkout').inputValue()).toBe('1.0.0');
    await open('/changes');
    // The window is the API's `from`: switching to 1h asks every list for the last hour.
    const froms: number[] = [];
    const onRequest = (r: { url(): string }) => {
      const m = /[?&]from=(\d+)/.exec(r.url());
      if (m && r.url().includes('/api/v1/')) froms.push(Number(m[1]));
    };
    page.on('request', onRequest);
    await page.getByRole('button', { name: '1h' }).click();
    await page.waitForURL(/window=1h/);
    expect(await page.getByRole('button', { name: '1h' }).getAttribute('aria-pressed')).toBe('true');
    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    await page.waitForURL(/\/\?window=1h$/);
    await expect.poll(() => page.locator('#fresh-title').innerText()).toBe('New in the last 1h');
    page.off('request', onRequest);
    expect(froms.length).toBeGreaterThan(0);
    for (const f of froms) expect(Math.abs(Date.now() - 3_600_000 - f)).toBeLessThan(120_000);
    // Everything was sent a moment ago, so the last hour holds all of it.
    await expect.poll(() => column('services-table', 'log_records')).toEqual(['162', '44', '3']);
    // A since time after everything was sent: nothing is new.
    await open(`/changes?since=${new Date(Date.now() + 60_000).toISOString()}`);
    await expect.poll(() => page.locator('#templates-title .count').innerText()).toBe('0');
    expect(takeProblems()).toEqual([]);
  });

  it('live refresh: new data appears without losing scroll position or the selected row', async () => {
    await page.setViewportSize({ width: 1280, height: 420 });
    await open('/templates?refresh=1');
    await page.locator('#templates-table tbody tr').first().waitFor();
    // Select the fourth row with the keyboard and scroll so that the page is not at the top.
    await page.locator('#templates-table tbody tr').first().focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
    const selected = page.locator('#templates-table tbody tr.sel');
    const chosen = await selected.locator('td[data-col="template"] .tpl').innerText();
    expect(chosen).toBe((await column('templates-table', 'template'))[3]);
    await page.evaluate(() => scrollTo(0, 200));
    const y = await page.evaluate(() => scrollY);
    expect(y).toBeGreaterThan(0);
    await sendLogs(k.otlpUrl, 'inventory', Array.from({ length: 5 }, () => ({ body: 'stock level checked', severity: 'INFO' as const })));
    await expect.poll(async () => (await column('templates-table', 'count'))[0], { timeout: 15_000 }).toBe('155');
    expect(await page.evaluate(() => scrollY)).toBe(y);
    expect(await selected.locator('td[data-col="template"] .tpl').innerText()).toBe(chosen);
    expect(await page.evaluate(() => document.activeElement?.classList.contains('sel'))).toBe(true);
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(takeProblems()).toEqual([]);
  });

  it('keyboard: skip link first, arrows move through rows, Enter opens one', async () => {
    await open('/');
    await page.locator('#services-table tbody tr').first().waitFor();
    const order = await tabOrder(page, 12);
    expect(order.slice(0, 9)).toEqual([
      'a:Skip to content',
      'a:keytally overview',
      'a:Overview',
      'a:Log templates',
      'a:Keys',
      'a:Metrics',
      'a:What changed',
      'button:1h',
      'button:24h',
    ]);
    await page.locator('#services-table tbody tr').first().focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/service\?name=checkout/);
    expect(takeProblems()).toEqual([]);
  });

  it('accessibility: every control labelled, text contrast at least 4.5:1, focus visible', async () => {
    for (const path of ['/', '/templates', '/keys', '/metric?name=orders.placed&service=checkout', '/service?name=checkout', '/changes']) {
      await open(path);
      await page.waitForLoadState('networkidle');
      expect(await checkLabels(page), path).toEqual([]);
      expect(await checkContrast(page), path).toEqual([]);
    }
    await open('/');
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    expect(takeProblems()).toEqual([]);
  });

  it("phone width: no sideways scrolling of the page; wide tables scroll in their own box", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [path, name] of [['/', 'overview-phone'], ['/templates', 'templates-phone']] as const) {
        await open(path);
        await page.waitForLoadState('networkidle');
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
        await shot(name);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
    expect(takeProblems()).toEqual([]);
  });

  it('API errors are shown, never a blank page', async () => {
    await page.route('**/api/v1/keys?*', (r) => r.fulfill({ status: 500, contentType: 'application/json', body: '{"error":"the store is on fire"}' }));
    try {
      await open('/keys');
      await expect.poll(() => page.locator('[role=alert]').innerText()).toContain('HTTP 500: the store is on fire');
    } finally {
      await page.unroute('**/api/v1/keys?*');
    }
    takeProblems();
  });

  it('same origin only: no CORS headers, another site cannot read the API', async () => {
    const r = await fetch(`${k.apiUrl}/api/v1/services`, { headers: { Origin: 'http://evil.example' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${k.apiUrl}/api/v1/services`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const other = await browser.context.newPage();
    try {
      await other.route('http://evil.example/', (r) => r.fulfill({ contentType: 'text/html', body: '<html><body>evil</body></html>' }));
      await other.goto('http://evil.example/');
      const result = await other.evaluate(async (url) => {
        try {
          const res = await fetch(url);
          return `read ${(await res.text()).length} bytes`;
        } catch (e) {
          return `blocked: ${(e as Error).name}`;
        }
      }, `${k.apiUrl}/api/v1/services`);
      expect(result).toBe('blocked: TypeError');
    } finally {
      await other.close();
    }
  });

  it('the UI page and its files: CSP, nosniff, ETag, vendored libraries, /api index', async () => {
    const r = await fetch(`${k.apiUrl}/`);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = r.headers.get('etag')!;
    expect((await fetch(`${k.apiUrl}/`, { headers: { 'If-None-Match': etag } })).status).toBe(304);
    for (const f of ['/ui/vendor/preact.mjs', '/ui/vendor/preact-hooks.mjs', '/ui/vendor/htm.mjs', '/ui/vendor/uplot.mjs', '/ui/app.js']) {
      const a = await fetch(`${k.apiUrl}${f}`);
      expect(a.status, f).toBe(200);
      expect(a.headers.get('content-type'), f).toBe('text/javascript; charset=utf-8');
    }
    expect((await fetch(`${k.apiUrl}/ui/../package.json`)).status).toBe(404);
    expect((await fetch(`${k.apiUrl}/ui/nope.js`)).status).toBe(404);
    const index = await k.get('/api');
    expect(index.body).toMatchObject({ name: 'keytally', ui: '/' });
    expect((await fetch(`${k.apiUrl}/nope`)).status).toBe(404);
  });

  it('token prompt: asks once, refuses a wrong token, then shows the empty state with what to do next', async () => {
    const p = await browser.context.newPage();
    const errs: string[] = [];
    p.on('pageerror', (e) => errs.push(e.message));
    try {
      await p.goto(`${locked.apiUrl}/`);
      await p.getByLabel('Token', { exact: true }).fill('wrong');
      await p.getByRole('button', { name: 'Open' }).click();
      await expect.poll(() => p.locator('[role=alert]').innerText()).toContain('That token was refused');
      await p.getByLabel('Token', { exact: true }).fill('letmein');
      await p.getByRole('button', { name: 'Open' }).click();
      await expect.poll(() => p.locator('main h2').first().innerText()).toBe('No telemetry yet');
      expect(await p.locator('.empty-help pre').first().innerText()).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318');
      await p.screenshot({ path: join(SHOTS, 'empty.png'), fullPage: true });
      // Asked once: a reload and other pages use the kept token.
      await p.goto(`${locked.apiUrl}/templates`);
      await expect.poll(() => p.locator('main h2').first().innerText()).toBe('No log templates yet');
      expect(await p.getByLabel('Token', { exact: true }).count()).toBe(0);
      await p.goto(`${locked.apiUrl}/keys`);
      await expect.poll(() => p.locator('main h2').first().innerText()).toBe('No keys yet');
      expect(errs).toEqual([]);
    } finally {
      await p.close();
    }
  });
});

afterAll(() => {
  if (process.env['KEYTALLY_UI_DOCS'] === '1') {
    copyFileSync(join(SHOTS, 'overview.png'), join(ROOT, 'docs', 'ui-overview.png'));
    copyFileSync(join(SHOTS, 'templates.png'), join(ROOT, 'docs', 'ui-templates.png'));
  }
});
