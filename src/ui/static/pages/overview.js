// The overview: services ranked per signal, what is new in the window, the noisiest service, template, key, metric.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Bytes, Empty, ErrorBox, Loading, SendTelemetryHelp, Stat, TextFilter, Filters } from '../components.js';
import { ago, int, iso, pct, windowFrom, windowMs } from '../format.js';
import { Sparkline } from '../sparkline.js';
import { html } from '../html.js';
import { useData } from '../live.js';
import { DataTable, Pager, pageParams } from '../table.js';
import { TemplateText } from '../template.js';
import { href, Link } from '../url.js';

const SIGNALS = ['logs', 'traces', 'metrics'];

const serviceColumns = (from, win) => [
  { key: 'name', label: 'Service', sort: 'name', text: true, cls: 'name-cell', render: (r) => html`<${Link} to=${href('/service', { name: r.name })}>${r.name}</${Link}>` },
  { key: 'bytes', label: 'Bytes', sort: 'bytes', num: true, render: (r) => html`<${Bytes} n=${r.bytes} share=${r.bytes_percentage} of="all services' bytes" />` },
  { key: 'trend', label: `Bytes, last ${win}`, render: (r) => html`<${Sparkline} queries=${SIGNALS.map((signal) => ({ signal, service: r.name, from }))} label=${`${r.name} bytes`} />` },
  { key: 'log_records', label: 'Log records', sort: 'log_records', num: true, render: (r) => int(r.log_records) },
  { key: 'log_bytes', label: 'Log bytes', sort: 'log_bytes', num: true, render: (r) => html`<${Bytes} n=${r.log_bytes} />` },
  { key: 'spans', label: 'Spans', sort: 'spans', num: true, render: (r) => int(r.spans) },
  { key: 'span_bytes', label: 'Span bytes', sort: 'span_bytes', num: true, render: (r) => html`<${Bytes} n=${r.span_bytes} />` },
  { key: 'metric_points', label: 'Metric points', sort: 'metric_points', num: true, render: (r) => int(r.metric_points) },
  { key: 'metric_bytes', label: 'Metric bytes', sort: 'metric_bytes', num: true, render: (r) => html`<${Bytes} n=${r.metric_bytes} />` },
  { key: 'last_seen', label: 'Last seen', sort: 'last_seen', num: true, render: (r) => html`<time datetime=${iso(r.last_seen)} title=${iso(r.last_seen)}>${ago(r.last_seen)}</time>` },
];

/** The facts of the top row: one small request each (limit=1 or limit=0 for a total), all at once. */
async function loadFacts(since, from) {
  const one = (path, params) => api(path, { limit: 1, from, ...params });
  const newest = (path) => api(path, { limit: 5, sort: 'first_seen', order: 'desc', from });
  const [templates, keys, metrics, spans, topBytes, topLogs, topSpans, topPoints, topTpl, topKey, topMetric, newTpl, newKey, newMetric] = await Promise.all([
    api('/logs/templates', { limit: 0, from }),
    api('/keys', { limit: 0, from }),
    api('/metrics', { limit: 0, from }),
    api('/spans', { limit: 0, from }),
    one('/services', { sort: 'bytes', order: 'desc' }),
    one('/services', { sort: 'log_records', order: 'desc' }),
    one('/services', { sort: 'spans', order: 'desc' }),
    one('/services', { sort: 'metric_points', order: 'desc' }),
    one('/logs/templates', { sort: 'bytes', order: 'desc' }),
    one('/keys', { sort: 'cardinality_estimate', order: 'desc' }),
    one('/metrics', { sort: 'series_estimate', order: 'desc' }),
    newest('/logs/templates'),
    newest('/keys'),
    newest('/metrics'),
  ]);
  const fresh = (list) => list.items.filter((i) => i.first_seen >= since);
  return {
    totals: { templates: templates.total, keys: keys.total, metrics: metrics.total, spans: spans.total },
    top: { bytes: topBytes.items[0], logs: topLogs.items[0], spans: topSpans.items[0], points: topPoints.items[0], template: topTpl.items[0], key: topKey.items[0], metric: topMetric.items[0] },
    fresh: { templates: fresh(newTpl), keys: fresh(newKey), metrics: fresh(newMetric) },
  };
}

function Noisiest({ top, win }) {
  const svc = (s, what, v) => (s && v > 0 ? html`<li><span class="muted">${what}:</span> <${Link} to=${href('/service', { name: s.name })}>${s.name}</${Link}> <span class="muted">(${int(v)})</span></li>` : null);
  return html`<section class="panel" aria-labelledby="noisiest-title">
    <h2 id="noisiest-title">Noisiest in the last ${win}</h2>
    <ul class="facts">
      ${top.bytes && top.bytes.bytes > 0
        ? html`<li><span class="muted">most bytes:</span> <${Link} to=${href('/service', { name: top.bytes.name })}>${top.bytes.name}</${Link}> <span class="muted">(<${Bytes} n=${top.bytes.bytes} />, ${pct(top.bytes.bytes_percentage)} of all)</span></li>`
        : null}
      ${svc(top.logs, 'most log records', top.logs?.log_records)}
      ${svc(top.spans, 'most spans', top.spans?.spans)}
      ${svc(top.points, 'most metric points', top.points?.metric_points)}
      ${top.template
        ? html`<li><span class="muted">template:</span> <${TemplateText} text=${top.template.template} /> <span class="muted">(<${Bytes} n=${top.template.bytes} />, ${pct(top.template.bytes_percentage)} of ${top.template.service}'s log bytes; ${int(top.template.count)} records)</span></li>`
        : null}
      ${top.key ? html`<li><span class="muted">key:</span> <code class="key-name">${top.key.key}</code> <span class="muted">(~${int(top.key.cardinality_estimate)} values, ${top.key.scope} of ${top.key.service})</span></li>` : null}
      ${top.metric
        ? html`<li><span class="muted">metric:</span> <${Link} to=${href('/metric', { name: top.metric.name, service: top.metric.service })}><code>${top.metric.name}</code></${Link}> <span class="muted">(~${int(top.metric.series_estimate)} series)</span></li>`
        : null}
    </ul>
  </section>`;
}

function Fresh({ fresh, win }) {
  const n = fresh.templates.length + fresh.keys.length + fresh.metrics.length;
  const more = (list) => (list.length === 5 ? html` <span class="muted">(5 newest shown)</span>` : null);
  return html`<section class="panel" aria-labelledby="fresh-title">
    <h2 id="fresh-title">New in the last ${win}</h2>
    ${n === 0
      ? html`<p class="muted">Nothing first seen in the last ${win}.</p>`
      : html`<ul class="facts">
          ${fresh.templates.map((t) => html`<li key=${`t${t.service}${t.template_id}`}><span class="muted">template in ${t.service}:</span> <${TemplateText} text=${t.template} /></li>`)}
          ${fresh.keys.map((k) => html`<li key=${`k${k.service}${k.scope}${k.key}`}><span class="muted">${k.scope} key in ${k.service}:</span> <code class="key-name">${k.key}</code></li>`)}
          ${fresh.metrics.map((m) => html`<li key=${`m${m.service}${m.name}`}><span class="muted">metric in ${m.service}:</span> <code>${m.name}</code></li>`)}
        </ul>${more(fresh.templates) ?? more(fresh.keys) ?? more(fresh.metrics)}`}
    <p><${Link} to=${href('/changes', { window: win })}>What changed in the last ${win} →</${Link}></p>
  </section>`;
}

export function OverviewPage({ params, win }) {
  const from = windowFrom(win);
  const SERVICE_COLUMNS = serviceColumns(from, win);
  const page = pageParams(params, SERVICE_COLUMNS, 'bytes');
  const q = { q: params.q, from, ...page };
  const services = useData(() => api('/services', q), JSON.stringify(q));
  // The window start is rounded to the minute so that live refreshes do not count as a new request key.
  const since = Math.floor((Date.now() - windowMs(win)) / 60_000) * 60_000;
  const facts = useData(() => loadFacts(since, from), `${win}:${since}`);
  const [selected, setSelected] = useState();
  const s = services.data;
  const f = facts.data;
  if (s && s.total === 0 && !params.q) {
    return html`<section aria-labelledby="page-title">
      <h1 id="page-title">Overview</h1>
      <${Empty} title="No telemetry yet">
        <p>keytally has not received any logs, spans or metrics. Once it does, this page ranks your services by what they send.</p>
        <${SendTelemetryHelp} />
      </${Empty}>
    </section>`;
  }
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title">Overview</h1>
    <${ErrorBox} error=${services.error} what="the services" />
    <${ErrorBox} error=${facts.error} what="the summary" />
    ${f
      ? html`<div class="stats">
          <${Stat} label="Services" value=${s ? int(s.total) : '…'} />
          <${Stat} label="Log templates" value=${int(f.totals.templates)} sub=${`active in the last ${win}`} />
          <${Stat} label="Keys" value=${int(f.totals.keys)} sub=${`active in the last ${win}`} />
          <${Stat} label="Metrics" value=${int(f.totals.metrics)} sub=${`active in the last ${win}`} />
          <${Stat} label="Span names" value=${int(f.totals.spans)} sub=${`active in the last ${win}`} />
        </div>
        <div class="panels"><${Noisiest} top=${f.top} win=${win} /><${Fresh} fresh=${f.fresh} win=${win} /></div>`
      : facts.error ? null : html`<${Loading} what="the summary" />`}
    <h2>Services</h2>
    <p class="muted small">Counts and bytes (OTLP protobuf size, what an ingest bill counts) received in the last ${win}. Sort by a column to rank the services by it.</p>
    <${Filters} label="Filter services"><${TextFilter} name="q" label="Service name contains" value=${params.q} /></${Filters}>
    ${s === undefined
      ? services.error ? null : html`<${Loading} what="the services" />`
      : html`<${DataTable} id="services-table" caption=${`Services by ${page.sort}`} columns=${SERVICE_COLUMNS} rows=${s.items} rowKey=${(r) => r.name}
          sort=${page.sort} order=${page.order} busy=${services.stale} selected=${selected} onSelect=${setSelected} empty="No service name matches." />
        <${Pager} total=${s.total} offset=${page.offset} limit=${page.limit} label="Services" />`}
  </section>`;
}
