// A sparkline of bytes (or counts) over the chosen window, drawn with uPlot. It asks for its series only once it
// scrolls into view (a page of 100 templates does not make 100 requests up front) and again on each live tick.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api } from './api.js';
import { bytes, int } from './format.js';
import { html } from './html.js';
import { useTick } from './live.js';

/** Fetches and sums one or more series (same window, same step): e.g. a service's logs, metrics and traces. */
async function loadSeries(queries) {
  const answers = await Promise.all(queries.map((q) => api('/series', q)));
  const first = answers[0];
  const t = first.items.map((p) => p.t / 1000);
  const sum = (field) => first.items.map((_, i) => answers.reduce((acc, a) => acc + (a.items[i]?.[field] ?? 0), 0));
  return { t, bytes: sum('bytes'), count: sum('count') };
}

function useVisible(ref) {
  const [visible, setVisible] = useState(false);
  useEffect(() => {
    if (!ref.current || visible) return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setVisible(true), { rootMargin: '200px' });
    io.observe(ref.current);
    return () => io.disconnect();
  }, [visible]);
  return visible;
}

/** `queries`: the /api/v1/series parameter sets to add up; `field`: 'bytes' or 'count'. */
export function Sparkline({ queries, field = 'bytes', label }) {
  const box = useRef();
  const plot = useRef();
  const visible = useVisible(box);
  const tick = useTick();
  const key = JSON.stringify(queries);
  const [state, setState] = useState({});
  useEffect(() => {
    if (!visible) return;
    let cancelled = false;
    loadSeries(queries).then(
      (data) => !cancelled && setState({ data }),
      (error) => !cancelled && setState((s) => ({ ...s, error })),
    );
    return () => {
      cancelled = true;
    };
  }, [visible, key, tick]);
  useEffect(() => {
    const d = state.data;
    if (!d || !box.current) return;
    const values = d[field];
    if (plot.current) {
      plot.current.setData([d.t, values]);
      return;
    }
    plot.current = new uPlot(
      {
        width: 120,
        height: 28,
        pxAlign: false,
        cursor: { show: false },
        legend: { show: false },
        select: { show: false },
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: '#0a58ca', fill: 'rgba(10, 88, 202, 0.12)', width: 1.5, points: { show: false } }],
      },
      [d.t, values],
      box.current,
    );
  }, [state.data, field]);
  useEffect(() => () => plot.current?.destroy(), []);
  const d = state.data;
  const values = d?.[field] ?? [];
  const total = values.reduce((a, b) => a + b, 0);
  const peak = Math.max(0, ...values);
  const fmt = field === 'bytes' ? bytes : int;
  const desc = d ? `${label ?? field}: ${fmt(total)} in the window, peak ${fmt(peak)} per step` : state.error ? `no series: ${state.error.message}` : 'loading';
  return html`<span class="spark" role="img" aria-label=${desc} title=${desc} ref=${box}></span>`;
}
