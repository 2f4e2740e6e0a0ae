// A metric's series estimate over the chosen window (GET /api/v1/metrics/{name}/series-estimates), drawn with
// uPlot: how the number of distinct label sets grew, or with a label key chosen, how that key's values did.
// The estimates are all-time (they only grow); a step without data carries the last value, none before any.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { api, seg } from './api.js';
import { ErrorBox } from './components.js';
import { int, iso, windowFrom } from './format.js';
import { html } from './html.js';
import { useData } from './live.js';
import { setParams } from './url.js';

const HEIGHT = 180;

function Plot({ items, what }) {
  const box = useRef();
  const plot = useRef();
  useEffect(() => {
    if (!box.current) return;
    const data = [items.map((p) => p.t / 1000), items.map((p) => p.estimate)];
    if (plot.current) {
      plot.current.setData(data);
      return;
    }
    // A lone value (one step with data, nothing before it) is no line: show it as a point.
    const sparse = data[1].filter((v) => v !== null).length < 3;
    const width = Math.max(280, Math.min(900, box.current.clientWidth || 600));
    plot.current = new uPlot(
      {
        width,
        height: HEIGHT,
        legend: { show: false },
        select: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [{ stroke: '#333' }, { stroke: '#333', size: 60 }],
        series: [{}, { label: what, stroke: '#0a58ca', fill: 'rgba(10, 88, 202, 0.10)', width: 2, points: { show: sparse, size: 8, fill: '#0a58ca' }, spanGaps: false }],
      },
      data,
      box.current,
    );
  }, [items]);
  useEffect(() => () => plot.current?.destroy(), []);
  return html`<div class="estimate-plot" ref=${box}></div>`;
}

/** `labels`: the metric's label keys (the choices besides its series); `estimate`: the chosen key from the URL. */
export function SeriesEstimateChart({ service, metric, labels, estimate, win }) {
  const label = labels.some((l) => l.key === estimate) ? estimate : undefined;
  const q = { service, label, from: windowFrom(win) };
  const { data, error, stale } = useData(() => api(`/metrics/${seg(metric)}/series-estimates`, q), JSON.stringify([metric, q]));
  const what = label === undefined ? 'series (label sets)' : `values of ${label}`;
  const known = data?.items.filter((p) => p.estimate !== null) ?? [];
  const first = known[0];
  const last = known[known.length - 1];
  // An answer of the previous choice stays drawn until the new one arrives, but is not described as the new one.
  const desc = !data || stale
    ? 'loading'
    : last
      ? `Estimated ${what} of ${metric} over the last ${win}: ${int(first.estimate)} at ${iso(first.t)}, ${int(last.estimate)} at ${iso(last.t)} (steps of ${data.step / 60} min)`
      : `No estimate of ${metric} was recorded in the last ${win}.`;
  const fid = `estimate-of-${service}`;
  return html`<figure class="estimate-chart" data-service=${service}>
    <figcaption>
      <span><strong>${label === undefined ? 'Series estimate' : html`Cardinality of <code class="key-name">${label}</code>`}</strong>, last ${win}</span>
      <span class="field inline-field">
        <label for=${fid}>Estimate of</label>
        <select id=${fid} value=${label ?? ''} onChange=${(e) => setParams({ estimate: e.target.value || undefined })}>
          <option value="">all label sets (series)</option>
          ${labels.map((l) => html`<option value=${l.key}>label ${l.key}</option>`)}
        </select>
      </span>
    </figcaption>
    <${ErrorBox} error=${error} what="the series estimate" />
    ${data && last ? html`<div role="img" aria-busy=${stale ? 'true' : undefined} aria-label=${desc} title=${desc}><${Plot} items=${data.items} what=${what} /></div>` : html`<p class="muted small">${desc}</p>`}
  </figure>`;
}
