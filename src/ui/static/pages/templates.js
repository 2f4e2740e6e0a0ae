// Log templates: every mined body template with its count and share of its (service, severity), filterable by
// service, severity and text, sortable by any column, paged on the server.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Bytes, ErrorBox, Filters, Loading, SelectFilter, TextFilter, Empty, SendTelemetryHelp } from '../components.js';
import { ago, int, iso, pct, windowFrom } from '../format.js';
import { Sparkline } from '../sparkline.js';
import { html } from '../html.js';
import { useData } from '../live.js';
import { DataTable, Pager, pageParams } from '../table.js';
import { TemplateText } from '../template.js';
import { href, Link } from '../url.js';
import { useServiceNames } from './shared.js';

const templateColumns = (from, win) => [
  { key: 'template', label: 'Template', sort: 'template', text: true, cls: 'tpl-cell', render: (r) => html`<${TemplateText} text=${r.template} />
      <details class="example"><summary>example</summary><code class="example-text">${r.example}</code></details>` },
  { key: 'service', label: 'Service', sort: 'service', text: true, render: (r) => html`<${Link} to=${href('/service', { name: r.service, tab: 'templates' })}>${r.service}</${Link}>` },
  { key: 'severity', label: 'Severity', sort: 'severity', text: true, render: (r) => html`<span class=${`sev sev-${String(r.severity).toLowerCase()}`}>${r.severity}</span>` },
  { key: 'count', label: 'Count', sort: 'count', num: true, render: (r) => int(r.count) },
  { key: 'percentage', label: '%', sort: 'percentage', num: true, render: (r) => html`<span title="share of its service and severity">${pct(r.percentage)}</span>` },
  { key: 'bytes', label: 'Bytes', sort: 'bytes', num: true, render: (r) => html`<${Bytes} n=${r.bytes} />` },
  { key: 'trend', label: `Bytes, last ${win}`, render: (r) => html`<${Sparkline} queries=${[{ signal: 'logs', service: r.service, severity: r.severity, template: r.template_id, from }]} label="template bytes" />` },
  { key: 'bytes_percentage', label: '% bytes', sort: 'bytes_percentage', num: true, render: (r) => html`<span title="share of its service's log bytes">${pct(r.bytes_percentage)}</span>` },
  { key: 'first_seen', label: 'First seen', sort: 'first_seen', num: true, render: (r) => html`<time datetime=${iso(r.first_seen)} title=${iso(r.first_seen)}>${ago(r.first_seen)}</time>` },
  { key: 'last_seen', label: 'Last seen', sort: 'last_seen', num: true, render: (r) => html`<time datetime=${iso(r.last_seen)} title=${iso(r.last_seen)}>${ago(r.last_seen)}</time>` },
];

const tplKey = (r) => `${r.service}\u0000${r.severity}\u0000${r.template_id}`;

/** The table and its filters; `service` fixed when shown inside a service page. */
export function TemplatesView({ params, service, win }) {
  const from = windowFrom(win);
  const all = templateColumns(from, win);
  const columns = service ? all.filter((c) => c.key !== 'service') : all;
  const page = pageParams(params, columns, 'count');
  const svc = service ?? params.service;
  const q = { service: svc, severity: params.severity, q: params.q, from, ...page };
  const key = JSON.stringify(q);
  const { data, error, stale, loading } = useData(() => api('/logs/templates', q), key);
  const services = useServiceNames(!service);
  // The severities alone: /logs would bring every shape's key lists along (megabytes at 100,000 keys).
  const sev = useData(() => api('/logs/severities', { service: svc }), `sev:${svc ?? ''}`);
  const severities = (sev.data?.items ?? []).map((i) => i.severity);
  const [selected, setSelected] = useState();
  const filtered = Boolean(params.q || params.severity || (!service && params.service));
  return html`<div>
    <${Filters} label="Filter templates">
      ${service ? null : html`<${SelectFilter} name="service" label="Service" value=${params.service} options=${services} />`}
      <${SelectFilter} name="severity" label="Severity" value=${params.severity} options=${severities} />
      <${TextFilter} name="q" label="Template contains" value=${params.q} placeholder="e.g. timeout" />
    </${Filters}>
    <${ErrorBox} error=${error} what="the templates" />
    ${data === undefined
      ? error ? null : html`<${Loading} what="templates" />`
      : data.total === 0 && !filtered && data.items.length === 0
        ? html`<${Empty} title="No log templates yet">
            <p>keytally mines a template from every log body it receives. None has arrived${svc ? html` for <strong>${svc}</strong>` : ''}.</p>
            <${SendTelemetryHelp} />
          </${Empty}>`
        : html`<${DataTable} id="templates-table" caption=${`Log templates${svc ? ` of ${svc}` : ''}, ${page.sort} ${page.order === 'asc' ? 'ascending' : 'descending'}`}
            columns=${columns} rows=${data.items} rowKey=${tplKey} sort=${page.sort} order=${page.order} busy=${stale}
            selected=${selected} onSelect=${setSelected}
            empty=${html`No template matches these filters. <${Link} to=${href(location.pathname, service ? { name: service, tab: 'templates' } : {})}>Clear the filters</${Link}>.`} />
          <${Pager} total=${data.total} offset=${page.offset} limit=${page.limit} label="Templates" />
          ${loading ? html`<span class="sr-only" role="status">updating</span>` : null}`}
  </div>`;
}

export function TemplatesPage({ params, win }) {
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title">Log templates</h1>
    <p class="lede">Every log body reduced to its template: <span class="tok tok-wild">${'<*>'}</span> is a token that varies,
      <span class="tok tok-mask">${'<NUM>'}</span> and the like are masked values. Counts and bytes are those received in the last ${win}: the % is the template's share of the records of its service and severity, % bytes its share of the service's log bytes (OTLP protobuf size).</p>
    <${TemplatesView} params=${params} win=${win} />
  </section>`;
}
