// Live refresh: one clock for the whole page. Every `refresh` seconds (query parameter, default 10; 0 = off) each
// visible data hook fetches again and swaps in the new answer in place. The old answer stays on screen while the
// new one loads, and rows are keyed, so scroll position, focus and the selected row survive a refresh.
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set();
let tick = 0;
let timer;
let paused = false;
let seconds = 10;
export let lastRefresh = 0;

function schedule() {
  clearInterval(timer);
  timer = undefined;
  if (paused || !(seconds > 0)) return;
  timer = setInterval(() => {
    if (document.hidden) return;
    tick++;
    for (const fn of listeners) fn(tick);
  }, seconds * 1000);
}

export function configureLive(s, p) {
  if (s === seconds && p === paused) return;
  seconds = s;
  paused = p;
  schedule();
}

export function useTick() {
  const [t, setT] = useState(tick);
  useEffect(() => {
    listeners.add(setT);
    return () => listeners.delete(setT);
  }, []);
  return t;
}

/**
 * Runs `load` (an async function) when `key` changes and on every live tick. Returns {data, error, loading}; on an
 * error the last good data is kept next to the error, so a failed refresh never blanks the page.
 */
export function useData(load, key) {
  const t = useTick();
  const [state, setState] = useState({ data: undefined, error: undefined, loading: true, key });
  useEffect(() => {
    let cancelled = false;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => {
        if (cancelled) return;
        lastRefresh = Date.now();
        setState({ data, error: undefined, loading: false, key });
      },
      (error) => {
        if (!cancelled) setState((s) => ({ data: s.key === key ? s.data : undefined, error, loading: false, key }));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [key, t]);
  // Data of an earlier key (other filters, another page) stays on screen until the new answer arrives, marked stale.
  return { ...state, stale: state.key !== key };
}
