// What changed: GET /api/v1/changes — templates, keys, metrics and span names first seen since a time (the window,
// `since` in the URL, or when a service version was first seen), and what rose and fell most in bytes against the
// window of the same length before it.
import { api, seg } from '../api.js';
import { Bytes, ErrorBox, Loading } from '../components.js';
import { ago, int, iso, windowMs } from '../format.js';
import { html } from '../html.js';
import { useData } from '../live.js';
import { DataTable } from '../table.js';
import { TemplateText } from '../template.js';
import { href, Link, setParams } from '../url.js';
import { useServiceNames } from './shared.js';

const LIMIT = 100;

/** `since` as unix ms or an ISO date/time; else the window. */
export function sinceOf(params, win) {
  const s = params.since;
  if (s && /^\d{10,16}$/.test(s)) return Number(s);
  if (s && !Number.isNaN(Date.parse(s))) return Date.parse(s);
  return Math.floor((Date.now() - windowMs(win)) / 60_000) * 60_000;
}

const time = (ms) => html`<time datetime=${iso(ms)} title=${iso(ms)}>${ago(ms)}</time>`;
const svcLink = (r, tab) => html`<${Link} to=${href('/service', { name: r.service, tab })}>${r.service}</${Link}>`;
const bytesCol = { key: 'bytes', label: 'Bytes', num: true, render: (r) => html`<${Bytes} n=${r.bytes} />` };

const NEW = [
  {
    id: 'templates', title: 'New log templates', key: (r) => `${r.service}\u0000${r.severity}\u0000${r.template_id}`,
    columns: [
      { key: 'template', label: 'Template', cls: 'tpl-cell', render: (r) => html`<${TemplateText} text=${r.template} />` },
      { key: 'service', label: 'Service', render: (r) => svcLink(r, 'templates') },
      { key: 'severity', label: 'Severity' },
      { key: 'count', label: 'Count', num: true, render: (r) => int(r.count) },
      bytesCol,
      { key: 'first_seen', label: 'First seen', num: true, render: (r) => time(r.first_seen) },
    ],
  },
  {
    id: 'keys', title: 'New keys', key: (r) => `${r.service}\u0000${r.scope}\u0000${r.key}`,
    columns: [
      { key: 'key', label: 'Key', render: (r) => html`<code class="key-name">${r.key}</code>` },
      { key: 'scope', label: 'Scope' },
      { key: 'service', label: 'Service', render: (r) => svcLink(r, 'keys') },
      { key: 'cardinality_estimate', label: 'Cardinality', num: true, render: (r) => int(r.cardinality_estimate) },
      bytesCol,
      { key: 'first_seen', label: 'First seen', num: true, render: (r) => time(r.first_seen) },
    ],
  },
  {
    id: 'metrics', title: 'New metrics', key: (r) => `${r.service}\u0000${r.name}`,
    columns: [
      { key: 'name', label: 'Metric', render: (r) => html`<${Link} to=${href('/metric', { name: r.name, service: r.service })}><code>${r.name}</code></${Link}>` },
      { key: 'service', label: 'Service', render: (r) => svcLink(r, 'metrics') },
      { key: 'series_estimate', label: 'Series', num: true, render: (r) => int(r.series_estimate) },
      bytesCol,
      { key: 'first_seen', label: 'First seen', num: true, render: (r) => time(r.first_seen) },
    ],
  },
  {
    id: 'spans', title: 'New span names', key: (r) => `${r.service}\u0000${r.name}\u0000${r.kind}`,
    columns: [
      { key: 'name', label: 'Span name', render: (r) => html`<code>${r.name}</code>` },
      { key: 'kind', label: 'Kind' },
      { key: 'service', label: 'Service', render: (r) => svcLink(r, 'spans') },
      { key: 'sample_count', label: 'Spans', num: true, render: (r) => int(r.sample_count) },
      bytesCol,
      { key: 'first_seen', label: 'First seen', num: true, render: (r) => time(r.first_seen) },
    ],
  },
];

const MOVED = [
  { key: 'label', label: 'What', cls: 'tpl-cell', render: (c) => (c.kind === 'template' ? html`<${TemplateText} text=${c.label} />` : html`<code class="key-name">${c.label}</code>`) },
  { key: 'kind', label: 'Kind' },
  { key: 'service', label: 'Service', render: (c) => svcLink(c) },
  { key: 'bytes_before', label: 'Bytes before', num: true, render: (c) => html`<${Bytes} n=${c.bytes_before} />` },
  { key: 'bytes_after', label: 'Bytes after', num: true, render: (c) => html`<${Bytes} n=${c.bytes_after} />` },
  { key: 'bytes_change', label: 'Change', num: true, render: (c) => html`${c.bytes_change > 0 ? '+' : c.bytes_change < 0 ? '−' : ''}<${Bytes} n=${Math.abs(c.bytes_change)} />` },
  { key: 'count', label: 'Records before → after', num: true, render: (c) => `${int(c.count_before)} → ${int(c.count_after)}` },
];
const movedKey = (c) => `${c.kind}\u0000${c.service}\u0000${c.name}\u0000${c.sub}`;

function Versions({ service, version }) {
  const { data } = useData(() => api(`/services/${seg(service)}/versions`), `versions:${service}`);
  const versions = (data?.items ?? []).map((v) => v.version);
  return html`<div class="field">
    <label for="f-version">Since version of ${service}</label>
    <select id="f-version" value=${version ?? ''} onChange=${(e) => setParams({ version: e.target.value, since: undefined })}>
      <option value="">none (use the time)</option>
      ${versions.map((v) => html`<option value=${v}>${v}</option>`)}
    </select>
  </div>`;
}

export function ChangesPage({ params, win }) {
  const version = params.service && params.version ? params.version : undefined;
  const since = version ? undefined : sinceOf(params, win);
  const q = { since, service: params.service, version, limit: LIMIT };
  const { data, error } = useData(() => api('/changes', q), JSON.stringify(q));
  const services = useServiceNames();
  const shownSince = data?.since ?? since;
  const onSince = (e) => {
    const v = e.target.value;
    setParams({ since: v ? new Date(v).toISOString() : undefined, version: undefined });
  };
  const local = shownSince ? new Date(shownSince - new Date(shownSince).getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '';
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title">What changed</h1>
    <p class="lede">What keytally saw for the first time since ${html`<time datetime=${iso(shownSince)}>${iso(shownSince)}</time>`}${version ? ` (when ${params.service} ${version} was first seen)` : params.since ? '' : ` (the last ${win})`},
      and what rose or fell most in bytes against the ${data ? html`window before (<time>${iso(data.before.from)}</time> to <time>${iso(data.before.to)}</time>)` : 'window of the same length before it'}.</p>
    <form class="filters" aria-label="Since when" onSubmit=${(e) => e.preventDefault()}>
      <div class="field"><label for="f-since">Since (your local time)</label><input id="f-since" type="datetime-local" value=${local} onChange=${onSince} /></div>
      <div class="field">
        <label for="f-service">Service</label>
        <select id="f-service" value=${params.service ?? ''} onChange=${(e) => setParams({ service: e.target.value, version: undefined })}>
          <option value="">all</option>
          ${(params.service && !services.includes(params.service) ? [params.service, ...services] : services).map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </div>
      ${params.service ? html`<${Versions} service=${params.service} version=${version} />` : null}
      ${params.since || version ? html`<div class="field"><span class="label-spacer" aria-hidden="true"> </span><button type="button" onClick=${() => setParams({ since: undefined, version: undefined })}>Use the window instead</button></div>` : null}
    </form>
    <${ErrorBox} error=${error} what="the changes" />
    ${data === undefined
      ? error ? null : html`<${Loading} what="the changes" />`
      : html`
        ${NEW.map((l) => {
          const rows = data.new[l.id] ?? [];
          return html`<section key=${l.id} aria-labelledby=${`${l.id}-title`}>
            <h2 id=${`${l.id}-title`}>${l.title} <span class="count">${int(rows.length)}${rows.length === LIMIT ? '+' : ''}</span></h2>
            <${DataTable} id=${`new-${l.id}`} caption=${`${l.title} since ${iso(data.since)}`} columns=${l.columns} rows=${rows} rowKey=${l.key} empty=${`None since ${iso(data.since)}.`} />
          </section>`;
        })}
        <section aria-labelledby="rose-title">
          <h2 id="rose-title">Rose most in bytes <span class="count">${int(data.rose.length)}</span></h2>
          <${DataTable} id="rose" caption="Templates, metrics, span names and keys whose bytes rose most" columns=${MOVED} rows=${data.rose} rowKey=${movedKey} empty="Nothing rose." />
        </section>
        <section aria-labelledby="fell-title">
          <h2 id="fell-title">Fell most in bytes <span class="count">${int(data.fell.length)}</span></h2>
          <${DataTable} id="fell" caption="Templates, metrics, span names and keys whose bytes fell most" columns=${MOVED} rows=${data.fell} rowKey=${movedKey} empty="Nothing fell." />
        </section>`}
  </section>`;
}
