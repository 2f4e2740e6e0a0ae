/**
 * Basic accessibility checks run inside the page: every form control has a
 * label, text meets WCAG AA contrast against the background it is drawn on,
 * and the order Tab moves focus in. Not a full audit; the ones a change most
 * easily breaks.
 */
import type { Page } from 'playwright-core';

/** Controls without an accessible name (label element, aria-label, aria-labelledby, or a button's text). */
export async function checkLabels(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const bad: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('input, select, textarea, button, a[href]')) {
      const name =
        (el as HTMLInputElement).labels?.length ||
        el.getAttribute('aria-label') ||
        el.getAttribute('aria-labelledby') ||
        ((el.tagName === 'BUTTON' || el.tagName === 'A') && el.innerText.trim());
      if (!name) bad.push(el.outerHTML.slice(0, 120));
    }
    return bad;
  });
}

/** Text elements whose colour on their effective background is under 4.5:1 (3:1 for large text). */
export async function checkContrast(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const parse = (c: string): number[] => {
      const m = c.match(/[\d.]+/g)!.map(Number);
      return [m[0]!, m[1]!, m[2]!, m.length > 3 ? m[3]! : 1];
    };
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
    };
    const background = (el: Element | null): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c[3]! > 0.5) return c;
      }
      return [255, 255, 255, 1];
    };
    const bad: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set<Element>();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || !n.textContent?.trim()) continue;
      seen.add(el);
      const st = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      if (st.visibility === 'hidden' || r.width <= 1 || r.height <= 1) continue;
      const fg = parse(st.color);
      const bg = background(el);
      const l1 = lum(fg);
      const l2 = lum(bg);
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      const size = parseFloat(st.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) bad.push(`${ratio.toFixed(2)}:1 "${n.textContent.trim().slice(0, 40)}" (${st.color} on rgb(${bg.slice(0, 3).join(',')}))`);
    }
    return bad;
  });
}

/** Presses Tab `n` times from the top of the page and names each focused element as `tag:accessible text`. */
export async function tabOrder(page: Page, n: number): Promise<string[]> {
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Tab');
    out.push(
      await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        return `${el.tagName.toLowerCase()}:${el.getAttribute('aria-label') ?? el.innerText.trim()}`;
      }),
    );
  }
  return out;
}
