/**
 * The web UI on a server with --store postgres (a database of its own in the
 * run's cluster, test/global-postgres.ts): the overview, the templates page
 * and the metric page (with its series estimate chart) show the same known
 * data as on SQLite (bench/ui/fixture.ts), markup as text, no console errors.
 * A lean part of test/browser/ui.test.ts: what a backend could change (the
 * numbers and the order the API answers with), not the UI's behaviour again.
 * Screenshots go where ui.test.ts puts them, named *-postgres.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startBrowser, type Browser } from '../../bench/ui/browser.js';
import { fillKnown, XSS } from '../../bench/ui/fixture.js';
import { freshDatabase } from '../helpers/postgres.js';
import { startKeytally, type Keytally } from '../helpers/server.js';
import { expectEstimateChart } from './estimate-chart.js';

const SHOTS = process.env['KEYTALLY_UI_SCREENSHOTS'] || mkdtempSync(join(tmpdir(), 'keytally-ui-screenshots-'));
mkdirSync(SHOTS, { recursive: true });

let k: Keytally;
let browser: Browser;
let page: Page;
let problems: string[] = [];

beforeAll(async () => {
  const url = await freshDatabase('kt_ui');
  [k, browser] = await Promise.all([
    startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5', '--store', 'postgres', '--postgres-url', url] }),
    startBrowser(),
  ]);
  await fillKnown(k.otlpUrl);
  page = await browser.context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  console.log(`keytally UI screenshots (postgres): ${SHOTS}`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await k?.stop();
  k?.cleanup();
});

async function open(path: string): Promise<void> {
  await page.goto(`${k.apiUrl}${path}`);
  await page.locator('main h1').first().waitFor();
}

async function column(tableId: string, col: string): Promise<string[]> {
  return page.locator(`#${tableId} tbody td[data-col="${col}"]`).evaluateAll((tds) => tds.map((td) => (td as HTMLElement).innerText.trim().split('\n')[0]!));
}

async function expectNoInjection(): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
  expect(await page.locator('#app img, #app script').count()).toBe(0);
}

const from24h = () => Math.floor((Date.now() - 86_400_000) / 60_000) * 60_000;

describe('web UI on PostgreSQL', () => {
  it('overview: the known services, counts and bytes', async () => {
    await open('/');
    await page.locator('#services-table tbody tr').first().waitFor();
    const cols = await Promise.all(['name', 'log_records', 'spans', 'metric_points'].map((c) => column('services-table', c)));
    expect(cols[0]!.map((_, i) => cols.map((c) => c[i]))).toEqual([
      ['inventory', '162', '4', '6'],
      ['checkout', '44', '12', '50'],
      [XSS.service, '3', '0', '0'],
    ]);
    const api = (await k.get('/api/v1/services?sort=bytes&order=desc')).body.items;
    const titles = await page.locator('#services-table td[data-col="bytes"] span.bytes').evaluateAll((els) => els.map((e) => e.getAttribute('title')));
    expect(titles).toEqual(api.map((s: any) => `${s.bytes.toLocaleString('en-US')} bytes`));
    // The facts come from their own requests, after the table: wait for the last of the five.
    await page.locator('.stat').nth(4).waitFor();
    const stats = await page.locator('.stat').evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.replace(/\n/g, ' ')));
    expect(stats).toEqual(['Services 3', 'Log templates 6 active in the last 24h', 'Keys 169 active in the last 24h', 'Metrics 3 active in the last 24h', 'Span names 2 active in the last 24h']);
    await expectNoInjection();
    await page.screenshot({ path: join(SHOTS, 'overview-postgres.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('templates: every known template with its count, as the API answers', async () => {
    await open('/templates');
    await page.locator('#templates-table tbody tr').first().waitFor();
    const apiTpl = (await k.get(`/api/v1/logs/templates?sort=count&order=desc&from=${from24h()}`)).body.items;
    expect(await column('templates-table', 'template')).toEqual(apiTpl.map((t: any) => t.template));
    const counts = await column('templates-table', 'count');
    const count = Object.fromEntries((await column('templates-table', 'template')).map((t, i) => [t, counts[i]]));
    expect(new Set(Object.keys(count))).toEqual(
      new Set(['stock level checked', 'order <NUM> shipped to warehouse <NUM>', 'cache miss for sku <NUM> in <NUM> ms', 'user <*> logged in from <IP>', 'payment declined for customer <NUM>', XSS.body]),
    );
    expect([count['stock level checked'], count['order <NUM> shipped to warehouse <NUM>'], count['cache miss for sku <NUM> in <NUM> ms'], count['payment declined for customer <NUM>'], count[XSS.body]]).toEqual(['150', '30', '12', '6', '3']);
    expect(await page.locator('#templates-table .tok-mask').count()).toBe(6);
    await expectNoInjection();
    await page.screenshot({ path: join(SHOTS, 'templates-postgres.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('metric: labels by cardinality and the series estimate over time', async () => {
    await open('/metric');
    await page.locator('#metrics-table tbody tr').first().waitFor();
    expect(await column('metrics-table', 'name')).toEqual(['orders.placed', 'stock.lookup.duration', 'stock.reserved SDK overflow']);
    await page.getByRole('link', { name: 'orders.placed' }).click();
    await page.waitForURL(/\/metric\?name=orders.placed&service=checkout/);
    await page.locator('#labels-table tbody tr').first().waitFor();
    expect(await column('labels-table', 'key')).toEqual(['user.id', 'region']);
    expect(await column('labels-table', 'cardinality_estimate')).toEqual(['50', '3']);
    await expectEstimateChart(k, page);
    await page.screenshot({ path: join(SHOTS, 'metric-postgres.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
