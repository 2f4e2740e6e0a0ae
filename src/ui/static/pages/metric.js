// Metrics: the list (by series estimate) and one metric's detail — its labels by cardinality, which answers
// "which label explodes this metric".
import { useState } from 'preact/hooks';
import { api, seg } from '../api.js';
import { Bytes, Empty, ErrorBox, Filters, Loading, SelectFilter, SendTelemetryHelp, Stat, TextFilter } from '../components.js';
import { ago, int, iso, pct, windowFrom } from '../format.js';
import { Sparkline } from '../sparkline.js';
import { html } from '../html.js';
import { useData } from '../live.js';
import { DataTable, Pager, pageParams } from '../table.js';
import { href, Link } from '../url.js';
import { METRIC_TYPES, overLimit, useServiceNames } from './shared.js';
import { SeriesEstimateChart } from '../estimate-chart.js';

const keysText = (ks) => (ks?.length ? ks.join(', ') : '–');

export function metricColumns(withService, from, win) {
  const cols = [
    { key: 'name', label: 'Metric', sort: 'name', text: true, cls: 'name-cell', render: (r) => html`<${Link} to=${href('/metric', { name: r.name, service: r.service })}><code>${r.name}</code></${Link}>${r.sdk_overflow ? html` <span class="badge badge-over" title="the SDK hit its cardinality limit and folded series together">SDK overflow</span>` : null}` },
    { key: 'service', label: 'Service', sort: 'service', text: true, render: (r) => html`<${Link} to=${href('/service', { name: r.service, tab: 'metrics' })}>${r.service}</${Link}>` },
    { key: 'type', label: 'Type', sort: 'type', text: true },
    { key: 'unit', label: 'Unit', sort: 'unit', text: true, render: (r) => r.unit || '–' },
    { key: 'label_keys', label: 'Label keys', cls: 'keys-cell', render: (r) => keysText(r.label_keys) },
    { key: 'series_estimate', label: 'Series', sort: 'series_estimate', num: true, render: (r) => int(r.series_estimate) },
    { key: 'prometheus_series', label: 'Prometheus series', sort: 'prometheus_series', num: true, render: (r) => int(r.prometheus_series) },
    { key: 'sample_count', label: 'Points', sort: 'sample_count', num: true, render: (r) => int(r.sample_count) },
    { key: 'bytes', label: 'Bytes', sort: 'bytes', num: true, render: (r) => html`<${Bytes} n=${r.bytes} share=${r.bytes_percentage} of="its service's metric bytes" />` },
    { key: 'trend', label: `Bytes, last ${win}`, render: (r) => html`<${Sparkline} queries=${[{ signal: 'metrics', service: r.service, metric: r.name, from }]} label="metric bytes" />` },
    { key: 'last_seen', label: 'Last seen', sort: 'last_seen', num: true, render: (r) => html`<time datetime=${iso(r.last_seen)} title=${iso(r.last_seen)}>${ago(r.last_seen)}</time>` },
  ];
  return withService ? cols : cols.filter((c) => c.key !== 'service');
}

const metricKey = (r) => `${r.service}\u0000${r.name}`;

export function MetricsView({ params, service, win }) {
  const from = windowFrom(win);
  const cols = metricColumns(!service, from, win);
  const page = pageParams(params, cols, 'series_estimate');
  const q = { service: service ?? params.service, q: params.q, type: METRIC_TYPES.includes(params.type) ? params.type : undefined, from, ...page };
  const { data, error, stale } = useData(() => api('/metrics', q), JSON.stringify(q));
  const services = useServiceNames(!service);
  const [selected, setSelected] = useState();
  const filtered = Boolean(params.q || params.type || (!service && params.service));
  return html`<div>
    <${Filters} label="Filter metrics">
      ${service ? null : html`<${SelectFilter} name="service" label="Service" value=${params.service} options=${services} />`}
      <${SelectFilter} name="type" label="Type" value=${params.type} options=${METRIC_TYPES} />
      <${TextFilter} name="q" label="Name contains" value=${params.q} placeholder="e.g. http" />
    </${Filters}>
    <${ErrorBox} error=${error} what="the metrics" />
    ${data === undefined
      ? error ? null : html`<${Loading} what="metrics" />`
      : data.total === 0 && !filtered
        ? html`<${Empty} title="No metrics yet"><p>No metric point has arrived${service ? html` for <strong>${service}</strong>` : ''}.</p><${SendTelemetryHelp} /></${Empty}>`
        : html`<${DataTable} id="metrics-table" caption=${`Metrics${service ? ` of ${service}` : ''}, by ${page.sort}`} columns=${cols} rows=${data.items}
            rowKey=${metricKey} sort=${page.sort} order=${page.order} busy=${stale} selected=${selected} onSelect=${setSelected} empty="No metric matches these filters." />
          <${Pager} total=${data.total} offset=${page.offset} limit=${page.limit} label="Metrics" />`}
  </div>`;
}

function LabelBars({ labels, over }) {
  const max = Math.max(1, ...labels.map((l) => l.cardinality_estimate));
  const cols = [
    { key: 'key', label: 'Label', cls: 'name-cell', render: (l) => html`<code class="key-name">${l.key}</code>` },
    {
      key: 'cardinality_estimate', label: 'Cardinality', num: true,
      render: (l) => html`${int(l.cardinality_estimate)}${l.cardinality_estimate >= over ? html` <span class="badge badge-over">over ${int(over)}</span>` : null}`,
    },
    { key: 'bar', label: 'Share of the largest', cls: 'bar-cell', render: (l) => html`<span class="bar" aria-hidden="true"><span class="bar-fill" style=${{ width: `${(100 * l.cardinality_estimate) / max}%` }}></span></span><span class="sr-only">${Math.round((100 * l.cardinality_estimate) / max)}%</span>` },
    { key: 'sample_count', label: 'Samples', num: true, render: (l) => int(l.sample_count) },
    { key: 'bytes', label: 'Bytes', num: true, render: (l) => html`<${Bytes} n=${l.bytes} />` },
    { key: 'first_seen', label: 'First seen', num: true, render: (l) => html`<time title=${iso(l.first_seen)}>${ago(l.first_seen)}</time>` },
  ];
  const rows = labels.map((l) => (l.cardinality_estimate >= over ? { ...l, __class: 'over' } : l));
  return html`<${DataTable} id="labels-table" caption="Labels by cardinality (the API's order: highest first)" columns=${cols} rows=${rows} rowKey=${(l) => l.key}
    empty="This metric has no labels: it is one series per resource." />`;
}

function MetricDetail({ params, win }) {
  const name = params.name;
  const over = overLimit(params);
  const q = { service: params.service };
  const { data, error } = useData(() => api(`/metrics/${seg(name)}`, q), `${name}\u0000${params.service ?? ''}`);
  return html`<section aria-labelledby="page-title">
    <p class="crumbs"><${Link} to="/metric">Metrics</${Link}> /</p>
    <h1 id="page-title"><code>${name}</code></h1>
    <${ErrorBox} error=${error} what=${`the metric ${name}`} />
    ${error?.status === 404 ? html`<p>keytally has no metric by this name${params.service ? ' for this service' : ''}. <${Link} to="/metric">All metrics</${Link}>.</p>` : null}
    ${data === undefined
      ? error ? null : html`<${Loading} what="the metric" />`
      : data.items.map((m) => {
          const top = m.labels[0];
          return html`<article class="metric" key=${m.service}>
            <h2>in <${Link} to=${href('/service', { name: m.service, tab: 'metrics' })}>${m.service}</${Link}></h2>
            ${m.description ? html`<p class="lede">${m.description}</p>` : null}
            <div class="stats">
              <${Stat} label="Type" value=${m.type} sub=${m.type === 'sum' ? `${m.monotonic ? 'monotonic' : 'non-monotonic'}, ${m.temporality}` : m.temporality !== 'unspecified' ? m.temporality : ''} />
              <${Stat} label="Unit" value=${m.unit || '–'} />
              <${Stat} label="Series (estimate)" value=${int(m.series_estimate)} />
              <${Stat} label="Prometheus series" value=${int(m.prometheus_series)} sub=${m.bucket_count ? `${int(m.bucket_count)} buckets` : ''} />
              <${Stat} label="Points" value=${int(m.sample_count)} sub=${`last ${ago(m.last_seen)}`} />
              <${Stat} label="Bytes" value=${html`<${Bytes} n=${m.bytes} />`} sub=${`${pct(m.bytes_percentage)} of ${m.service}'s metric bytes`} />
            </div>
            ${m.sdk_overflow
              ? html`<p class="callout" role="note"><strong>SDK overflow:</strong> ${int(m.overflow_points)} points carried <code>otel.metric.overflow=true</code>: the SDK hit its cardinality limit and folded series together, so the real series count is higher than this estimate.</p>`
              : null}
            ${top && m.labels.length > 0
              ? html`<p class="callout">Label <code class="key-name">${top.key}</code> has the most values: about ${int(top.cardinality_estimate)}${m.labels.length > 1 ? html`, next is <code class="key-name">${m.labels[1].key}</code> with ${int(m.labels[1].cardinality_estimate)}` : ''}.</p>`
              : null}
            <${SeriesEstimateChart} service=${m.service} metric=${m.name} labels=${m.labels} estimate=${params.estimate} win=${win} />
            <${LabelBars} labels=${m.labels} over=${over} />
            <p class="muted small">Resource keys: ${keysText(m.resource_keys)}</p>
          </article>`;
        })}
  </section>`;
}

export function MetricPage({ params, win }) {
  if (params.name) return html`<${MetricDetail} params=${params} win=${win} />`;
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title">Metrics</h1>
    <p class="lede">Each metric of each service with its label keys and how many series it makes. Open one to see which label explodes it.</p>
    <${MetricsView} params=${params} win=${win} />
  </section>`;
}
