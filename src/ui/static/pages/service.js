// One service: its totals per signal and, in tabs (each a URL), its metrics, span names, log severities,
// templates and keys.
import { useState } from 'preact/hooks';
import { api, seg } from '../api.js';
import { Bytes, ErrorBox, Loading, Stat } from '../components.js';
import { ago, int, iso, pct, windowFrom } from '../format.js';
import { html } from '../html.js';
import { useData } from '../live.js';
import { DataTable, Pager, pageParams } from '../table.js';
import { TemplateText } from '../template.js';
import { href, Link } from '../url.js';
import { KeysView } from './keys.js';
import { MetricsView } from './metric.js';
import { TemplatesView } from './templates.js';

const TABS = [
  ['summary', 'Summary'],
  ['metrics', 'Metrics'],
  ['spans', 'Spans'],
  ['logs', 'Log severities'],
  ['templates', 'Templates'],
  ['keys', 'Keys'],
];

const keysText = (ks) => (ks?.length ? ks.join(', ') : '–');
const time = (ms) => html`<time datetime=${iso(ms)} title=${iso(ms)}>${ago(ms)}</time>`;

const VERSION_COLUMNS = [
  { key: 'version', label: 'service.version', render: (v) => html`<code>${v.version}</code>` },
  { key: 'records', label: 'Records', num: true, render: (v) => int(v.records) },
  { key: 'bytes', label: 'Bytes', num: true, render: (v) => html`<${Bytes} n=${v.bytes} />` },
  { key: 'first_seen', label: 'First seen', num: true, render: (v) => time(v.first_seen) },
  { key: 'last_seen', label: 'Last seen', num: true, render: (v) => time(v.last_seen) },
  { key: 'changes', label: 'What came with it', render: (v) => html`<${Link} to=${href('/changes', { service: v.service, version: v.version })}>changes since ${v.version}</${Link}>` },
];

function Versions({ name }) {
  const { data, error } = useData(() => api(`/services/${seg(name)}/versions`), `versions:${name}`);
  return html`<h2>Versions seen</h2>
    <${ErrorBox} error=${error} what="the versions" />
    ${data ? html`<${DataTable} id="versions" caption=${`service.version values of ${name}`} columns=${VERSION_COLUMNS} rows=${data.items.map((v) => ({ ...v, service: name }))} rowKey=${(v) => v.version}
      empty="This service sent no service.version resource attribute." />` : null}`;
}

function Summary({ o, name }) {
  const t = o.totals;
  return html`<div>
    <p class="muted small">All time: the totals and the top lists since keytally's store began.</p>
    <h2>Templates that cost the most</h2>
    <${DataTable} id="top-templates" caption=${`Top templates of ${name} by bytes`} rowKey=${(r) => `${r.severity}\u0000${r.template_id}`} rows=${o.top_templates}
      columns=${[
        { key: 'template', label: 'Template', cls: 'tpl-cell', render: (r) => html`<${TemplateText} text=${r.template} />` },
        { key: 'severity', label: 'Severity' },
        { key: 'count', label: 'Count', num: true, render: (r) => int(r.count) },
        { key: 'percentage', label: '%', num: true, render: (r) => pct(r.percentage) },
        { key: 'bytes', label: 'Bytes', num: true, render: (r) => html`<${Bytes} n=${r.bytes} share=${r.bytes_percentage} of="the service's log bytes" />` },
      ]}
      empty=${t.logs.records ? 'No templates.' : 'This service has sent no logs.'} />
    <h2>Keys with the most values</h2>
    <${DataTable} id="top-keys" caption=${`Top keys of ${name} by cardinality`} rowKey=${(r) => `${r.scope}\u0000${r.key}`} rows=${o.top_keys}
      columns=${[
        { key: 'key', label: 'Key', render: (r) => html`<code class="key-name">${r.key}</code>` },
        { key: 'scope', label: 'Scope' },
        { key: 'cardinality_estimate', label: 'Cardinality', num: true, render: (r) => int(r.cardinality_estimate) },
        { key: 'sample_count', label: 'Samples', num: true, render: (r) => int(r.sample_count) },
      ]}
      empty="No keys." />
    <h2>Metrics that cost the most</h2>
    <${DataTable} id="top-metrics" caption=${`Top metrics of ${name} by bytes`} rowKey=${(r) => r.name} rows=${o.top_metrics}
      columns=${[
        { key: 'name', label: 'Metric', render: (r) => html`<${Link} to=${href('/metric', { name: r.name, service: name })}><code>${r.name}</code></${Link}>` },
        { key: 'type', label: 'Type' },
        { key: 'series_estimate', label: 'Series', num: true, render: (r) => int(r.series_estimate) },
        { key: 'prometheus_series', label: 'Prometheus series', num: true, render: (r) => int(r.prometheus_series) },
        { key: 'bytes', label: 'Bytes', num: true, render: (r) => html`<${Bytes} n=${r.bytes} share=${r.bytes_percentage} of="the service's metric bytes" />` },
      ]}
      empty=${t.metrics.points ? 'No metrics.' : 'This service has sent no metrics.'} />
    <h2>Span names that cost the most</h2>
    <${DataTable} id="top-spans" caption=${`Top span names of ${name} by bytes`} rowKey=${(r) => `${r.name}\u0000${r.kind}`} rows=${o.top_spans ?? []}
      columns=${[
        { key: 'name', label: 'Span name', render: (r) => html`<code>${r.name}</code>` },
        { key: 'kind', label: 'Kind' },
        { key: 'sample_count', label: 'Spans', num: true, render: (r) => int(r.sample_count) },
        { key: 'bytes', label: 'Bytes', num: true, render: (r) => html`<${Bytes} n=${r.bytes} share=${r.bytes_percentage} of="the service's span bytes" />` },
      ]}
      empty=${t.traces.spans ? 'No span names.' : 'This service has sent no spans.'} />
    <${Versions} name=${name} />
  </div>`;
}

const SPAN_COLUMNS = [
  { key: 'name', label: 'Span name', sort: 'name', text: true, cls: 'name-cell', render: (r) => html`<code>${r.name}</code>` },
  { key: 'kind', label: 'Kind', sort: 'kind', text: true },
  { key: 'sample_count', label: 'Spans', sort: 'sample_count', num: true, render: (r) => int(r.sample_count) },
  { key: 'status_error', label: 'Errors', sort: 'status_error', num: true, render: (r) => html`${int(r.status_error)} <span class="muted">(${pct(r.sample_count ? (100 * r.status_error) / r.sample_count : 0)})</span>` },
  { key: 'bytes', label: 'Bytes', sort: 'bytes', num: true, render: (r) => html`<${Bytes} n=${r.bytes} share=${r.bytes_percentage} of="the service's span bytes" />` },
  { key: 'attribute_keys', label: 'Attribute keys', cls: 'keys-cell', render: (r) => keysText(r.attribute_keys) },
  { key: 'event_names', label: 'Events', cls: 'keys-cell', render: (r) => keysText(r.event_names) },
  { key: 'last_seen', label: 'Last seen', sort: 'last_seen', num: true, render: (r) => time(r.last_seen) },
];

function Spans({ name, params, win }) {
  const page = pageParams(params, SPAN_COLUMNS, 'sample_count');
  const q = { service: name, from: windowFrom(win), ...page };
  const { data, error, stale } = useData(() => api('/spans', q), JSON.stringify(q));
  const [selected, setSelected] = useState();
  return html`<div>
    <${ErrorBox} error=${error} what="the span names" />
    ${data === undefined ? (error ? null : html`<${Loading} />`) : html`
      <${DataTable} id="spans-table" caption=${`Span names of ${name}`} columns=${SPAN_COLUMNS} rows=${data.items} rowKey=${(r) => `${r.name}\u0000${r.kind}`}
        sort=${page.sort} order=${page.order} busy=${stale} selected=${selected} onSelect=${setSelected} empty="This service has sent no spans." />
      <${Pager} total=${data.total} offset=${page.offset} limit=${page.limit} label="Span names" />`}
  </div>`;
}

const LOG_COLUMNS = [
  { key: 'severity', label: 'Severity', sort: 'severity', text: true, render: (r) => html`<span class=${`sev sev-${String(r.severity).toLowerCase()}`}>${r.severity}</span>` },
  { key: 'sample_count', label: 'Records', sort: 'sample_count', num: true, render: (r) => int(r.sample_count) },
  { key: 'bytes', label: 'Bytes', sort: 'bytes', num: true, render: (r) => html`<${Bytes} n=${r.bytes} share=${r.bytes_percentage} of="the service's log bytes" />` },
  { key: 'attribute_keys', label: 'Attribute keys', cls: 'keys-cell', render: (r) => keysText(r.attribute_keys) },
  { key: 'body_keys', label: 'Body keys', cls: 'keys-cell', render: (r) => keysText(r.body_keys) },
  { key: 'templates', label: 'Templates', render: (r) => html`<${Link} to=${href('/service', { name: r.service, tab: 'templates', severity: r.severity })}>templates</${Link}>` },
  { key: 'last_seen', label: 'Last seen', sort: 'last_seen', num: true, render: (r) => time(r.last_seen) },
];

function Logs({ name, params, win }) {
  const page = pageParams(params, LOG_COLUMNS, 'sample_count');
  const q = { service: name, from: windowFrom(win), ...page };
  const { data, error, stale } = useData(() => api('/logs', q), JSON.stringify(q));
  return html`<div>
    <${ErrorBox} error=${error} what="the log severities" />
    ${data === undefined ? (error ? null : html`<${Loading} />`) : html`
      <${DataTable} id="logs-table" caption=${`Log severities of ${name}`} columns=${LOG_COLUMNS} rows=${data.items} rowKey=${(r) => r.severity}
        sort=${page.sort} order=${page.order} busy=${stale} empty="This service has sent no logs." />
      <${Pager} total=${data.total} offset=${page.offset} limit=${page.limit} label="Severities" />`}
  </div>`;
}

export function ServicePage({ params, win }) {
  const name = params.name;
  const tab = TABS.some(([t]) => t === params.tab) ? params.tab : 'summary';
  const { data: o, error } = useData(() => (name ? api(`/services/${seg(name)}/overview`) : Promise.reject(new Error('no service named in the URL (?name=...)'))), name ?? '');
  if (!name) return html`<section><h1 id="page-title">Service</h1><p>No service is named in the address. Pick one on the <${Link} to="/">overview</${Link}>.</p></section>`;
  const t = o?.totals;
  return html`<section aria-labelledby="page-title">
    <p class="crumbs"><${Link} to="/">Overview</${Link}> /</p>
    <h1 id="page-title">${name}</h1>
    <${ErrorBox} error=${error} what=${`the service ${name}`} />
    ${error?.status === 404 ? html`<p>keytally has seen no telemetry from a service by this name. <${Link} to="/">All services</${Link}>.</p>` : null}
    ${o === undefined
      ? error ? null : html`<${Loading} what="the service" />`
      : html`
        <p class="muted">first seen <time title=${iso(o.first_seen)}>${ago(o.first_seen)}</time>, last seen <time title=${iso(o.last_seen)}>${ago(o.last_seen)}</time> · counts and bytes since keytally's store began</p>
        <div class="stats">
          <${Stat} label="Bytes" value=${html`<${Bytes} n=${o.bytes} />`} sub=${`${pct(o.bytes_percentage)} of all services`} />
          <${Stat} label="Log records" value=${int(t.logs.records)} sub=${html`<${Bytes} n=${t.logs.bytes} />, ${int(t.logs.severities)} severities, ${int(t.logs.templates)} templates`} />
          <${Stat} label="Spans" value=${int(t.traces.spans)} sub=${html`<${Bytes} n=${t.traces.bytes} />, ${int(t.traces.span_names)} span names`} />
          <${Stat} label="Metric points" value=${int(t.metrics.points)} sub=${html`<${Bytes} n=${t.metrics.bytes} />, ${int(t.metrics.metrics)} metrics`} />
          <${Stat} label="Series (estimate)" value=${int(t.metrics.series_estimate)} sub=${`${int(t.metrics.prometheus_series)} as Prometheus series`} />
          <${Stat} label="Keys" value=${int(t.keys.keys)} />
        </div>
        <nav class="tabs" aria-label="Service sections">
          ${TABS.map(([id, label]) => html`<${Link} to=${href('/service', { name, tab: id === 'summary' ? undefined : id })} aria-current=${tab === id ? 'page' : undefined}>${label}</${Link}>`)}
        </nav>
        ${tab === 'summary' ? html`<${Summary} o=${o} name=${name} />` : null}
        ${tab !== 'summary' ? html`<p class="muted small">Counts and bytes received in the last ${win}.</p>` : null}
        ${tab === 'metrics' ? html`<${MetricsView} params=${params} service=${name} win=${win} />` : null}
        ${tab === 'spans' ? html`<${Spans} params=${params} name=${name} win=${win} />` : null}
        ${tab === 'logs' ? html`<${Logs} params=${params} name=${name} win=${win} />` : null}
        ${tab === 'templates' ? html`<${TemplatesView} params=${params} service=${name} win=${win} />` : null}
        ${tab === 'keys' ? html`<${KeysView} params=${params} service=${name} win=${win} />` : null}`}
  </section>`;
}
