/**
 * The metric page's series estimate chart, checked on the page of orders.placed
 * (checkout: 50 series, label user.id 50 values, region 3): drawn by uPlot, its
 * description the API's first and last estimates of the window, and the label
 * choice in the URL. Shared by the browser tests of each backend.
 */
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import type { Keytally } from '../helpers/server.js';

const from24h = () => Math.floor((Date.now() - 86_400_000) / 60_000) * 60_000;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

async function expectDescribed(k: Keytally, page: Page, label: string | undefined, what: string, want: number): Promise<void> {
  await expect.poll(() => page.locator('.estimate-chart canvas').count()).toBe(1);
  const api = (await k.get(`/api/v1/metrics/orders.placed/series-estimates?service=checkout&from=${from24h()}${label ? `&label=${label}` : ''}`)).body;
  const known = api.items.filter((p: { estimate: number | null }) => p.estimate !== null);
  expect(known.length).toBeGreaterThan(0);
  expect(known.at(-1).estimate).toBe(want);
  // Polled: the previous choice's answer is on screen (described as loading) until this one arrives.
  await expect
    .poll(() => page.locator('.estimate-chart [role=img]').getAttribute('aria-label'))
    .toBe(`Estimated ${what} of orders.placed over the last 24h: ${known[0].estimate} at ${iso(known[0].t)}, ${want} at ${iso(known.at(-1).t)} (steps of ${api.step / 60} min)`);
}

export async function expectEstimateChart(k: Keytally, page: Page): Promise<void> {
  await expectDescribed(k, page, undefined, 'series (label sets)', 50);
  // A label key's cardinality over time instead: the choice is in the URL.
  await page.getByLabel('Estimate of').selectOption('user.id');
  await page.waitForURL(/estimate=user.id/);
  await expect.poll(() => page.locator('.estimate-chart figcaption').innerText()).toContain('Cardinality of user.id');
  await expectDescribed(k, page, 'user.id', 'values of user.id', 50);
  await page.getByLabel('Estimate of').selectOption('region');
  await expectDescribed(k, page, 'region', 'values of region', 3);
  await page.getByLabel('Estimate of').selectOption('');
  await expect.poll(() => page.locator('.estimate-chart figcaption').innerText()).toContain('Series estimate');
}
