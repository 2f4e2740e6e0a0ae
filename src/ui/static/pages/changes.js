// What changed: templates, keys, metrics and span names first seen since a time (the window, or `since` in the
// URL). Each list asks the API for its newest entries (sort=first_seen desc) and keeps those inside the window.
import { api } from '../api.js';
import { ErrorBox, Loading } from '../components.js';
import { ago, int, iso, windowMs } from '../format.js';
import { html } from '../html.js';
import { useData } from '../live.js';
import { DataTable } from '../table.js';
import { TemplateText } from '../template.js';
import { href, Link, setParams } from '../url.js';

const NEWEST = 100;

/** `since` as unix ms or an ISO date/time; else the window. */
export function sinceOf(params, win) {
  const s = params.since;
  if (s && /^\d{10,16}$/.test(s)) return Number(s);
  if (s && !Number.isNaN(Date.parse(s))) return Date.parse(s);
  return Math.floor((Date.now() - windowMs(win)) / 60_000) * 60_000;
}

const time = (ms) => html`<time datetime=${iso(ms)} title=${iso(ms)}>${ago(ms)}</time>`;
const svcLink = (r, tab) => html`<${Link} to=${href('/service', { name: r.service, tab })}>${r.service}</${Link}>`;

const LISTS = [
  {
    id: 'templates', title: 'New log templates', path: '/logs/templates', key: (r) => `${r.service}\u0000${r.severity}\u0000${r.template_id}`,
    columns: [
      { key: 'template', label: 'Template', cls: 'tpl-cell', render: (r) => html`<${TemplateText} text=${r.template} />` },
      { key: 'service', label: 'Service', render: (r) => svcLink(r, 'templates') },
      { key: 'severity', label: 'Severity' },
      { key: 'count', label: 'Count', num: true, render: (r) => int(r.count) },
      { key: 'first_seen', label: 'First seen', num: true, render: (r) => time(r.first_seen) },
    ],
  },
  {
    id: 'keys', title: 'New keys', path: '/keys', key: (r) => `${r.service}\u0000${r.scope}\u0000${r.key}`,
    columns: [
      { key: 'key', label: 'Key', render: (r) => html`<code class="key-name">${r.key}</code>` },
      { key: 'scope', label: 'Scope' },
      { key: 'service', label: 'Service', render: (r) => svcLink(r, 'keys') },
      { key: 'cardinality_estimate', label: 'Cardinality', num: true, render: (r) => int(r.cardinality_estimate) },
      { key: 'first_seen', label: 'First seen', num: true, render: (r) => time(r.first_seen) },
    ],
  },
  {
    id: 'metrics', title: 'New metrics', path: '/metrics', key: (r) => `${r.service}\u0000${r.name}`,
    columns: [
      { key: 'name', label: 'Metric', render: (r) => html`<${Link} to=${href('/metric', { name: r.name, service: r.service })}><code>${r.name}</code></${Link}>` },
      { key: 'service', label: 'Service', render: (r) => svcLink(r, 'metrics') },
      { key: 'series_estimate', label: 'Series', num: true, render: (r) => int(r.series_estimate) },
      { key: 'first_seen', label: 'First seen', num: true, render: (r) => time(r.first_seen) },
    ],
  },
  {
    id: 'spans', title: 'New span names', path: '/spans', key: (r) => `${r.service}\u0000${r.name}\u0000${r.kind}`,
    columns: [
      { key: 'name', label: 'Span name', render: (r) => html`<code>${r.name}</code>` },
      { key: 'kind', label: 'Kind' },
      { key: 'service', label: 'Service', render: (r) => svcLink(r, 'spans') },
      { key: 'sample_count', label: 'Spans', num: true, render: (r) => int(r.sample_count) },
      { key: 'first_seen', label: 'First seen', num: true, render: (r) => time(r.first_seen) },
    ],
  },
];

function NewList({ list, since, service }) {
  const q = { service, limit: NEWEST, sort: 'first_seen', order: 'desc' };
  const { data, error } = useData(() => api(list.path, q), `${list.id}:${service ?? ''}`);
  const rows = (data?.items ?? []).filter((r) => r.first_seen >= since);
  const capped = rows.length === NEWEST;
  return html`<section aria-labelledby=${`${list.id}-title`}>
    <h2 id=${`${list.id}-title`}>${list.title} <span class="count">${data ? `${int(rows.length)}${capped ? '+' : ''}` : ''}</span></h2>
    <${ErrorBox} error=${error} what=${list.title.toLowerCase()} />
    ${data === undefined
      ? error ? null : html`<${Loading} />`
      : html`<${DataTable} id=${`new-${list.id}`} caption=${`${list.title} since ${iso(since)}`} columns=${list.columns} rows=${rows} rowKey=${list.key}
          empty=${`None since ${iso(since)}.`} />
        ${capped ? html`<p class="muted small">The ${NEWEST} newest are shown.</p>` : null}`}
  </section>`;
}

export function ChangesPage({ params, win }) {
  const since = sinceOf(params, win);
  const onSince = (e) => {
    const v = e.target.value;
    setParams({ since: v ? new Date(v).toISOString() : undefined });
  };
  const local = new Date(since - new Date(since).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title">What changed</h1>
    <p class="lede">Templates, keys, metrics and span names that keytally saw for the first time since ${html`<time datetime=${iso(since)}>${iso(since)}</time>`}${params.since ? '' : ` (the last ${win})`}.</p>
    <form class="filters" aria-label="Since when" onSubmit=${(e) => e.preventDefault()}>
      <div class="field"><label for="f-since">Since (your local time)</label><input id="f-since" type="datetime-local" value=${local} onChange=${onSince} /></div>
      ${params.since ? html`<div class="field"><span class="label-spacer" aria-hidden="true"> </span><button type="button" onClick=${() => setParams({ since: undefined })}>Use the window instead</button></div>` : null}
    </form>
    ${LISTS.map((l) => html`<${NewList} key=${l.id} list=${l} since=${since} service=${params.service} />`)}
  </section>`;
}
