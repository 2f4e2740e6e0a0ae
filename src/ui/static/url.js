// The URL is the page's state: path = page, query string = filters, sort, paging, window. So every view can be shared,
// reloaded, and the back button works. navigate() uses the History API; nothing is kept that the URL does not say.
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';

const listeners = new Set();
const notify = () => {
  for (const fn of listeners) fn();
};
addEventListener('popstate', notify);

function snapshot() {
  return { path: location.pathname, params: Object.fromEntries(new URLSearchParams(location.search)) };
}

export function useLocation() {
  const [loc, setLoc] = useState(snapshot);
  useEffect(() => {
    const fn = () => setLoc(snapshot());
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, []);
  return loc;
}

export function href(path, params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

export function navigate(to, { replace = false } = {}) {
  if (to === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', to);
  notify();
  if (!replace) scrollTo(0, 0);
}

/** Changes some query parameters of the current page (undefined or '' removes one). Filters replace the history entry. */
export function setParams(changes, { replace = true } = {}) {
  const params = { ...snapshot().params, ...changes };
  navigate(href(location.pathname, params), { replace });
}

/** An in-app link: a real <a href> (open in new tab, copy link work), routed without a reload on a plain click. */
export function Link({ to, children, ...rest }) {
  const onClick = (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return html`<a href=${to} onClick=${onClick} ...${rest}>${children}</a>`;
}
