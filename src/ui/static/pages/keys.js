// Keys: every attribute and label key per (service, scope) by estimated cardinality and samples. A key whose
// cardinality is over the limit (`over`, 1,000 by default) stands out.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Bytes, Empty, ErrorBox, Filters, Loading, SelectFilter, SendTelemetryHelp, TextFilter } from '../components.js';
import { ago, int, iso, windowFrom } from '../format.js';
import { html } from '../html.js';
import { useData } from '../live.js';
import { DataTable, Pager, pageParams } from '../table.js';
import { href, Link } from '../url.js';
import { KEY_SCOPES, overLimit, useServiceNames } from './shared.js';

function columns(over, withService) {
  const cols = [
    { key: 'key', label: 'Key', sort: 'key', text: true, cls: 'name-cell', render: (r) => html`<code class="key-name">${r.key}</code>` },
    { key: 'scope', label: 'Scope', sort: 'scope', text: true },
    { key: 'service', label: 'Service', sort: 'service', text: true, render: (r) => html`<${Link} to=${href('/service', { name: r.service, tab: 'keys' })}>${r.service}</${Link}>` },
    {
      key: 'cardinality_estimate', label: 'Cardinality', sort: 'cardinality_estimate', num: true,
      render: (r) => html`${int(r.cardinality_estimate)}${r.cardinality_estimate >= over ? html` <span class="badge badge-over" title=${`at or over ${int(over)} distinct values`}>over ${int(over)}</span>` : null}`,
    },
    { key: 'sample_count', label: 'Samples', sort: 'sample_count', num: true, render: (r) => int(r.sample_count) },
    { key: 'bytes', label: 'Bytes', sort: 'bytes', num: true, render: (r) => html`<${Bytes} n=${r.bytes} share=${r.bytes_percentage} of="its service's bytes of this signal" />` },
    { key: 'first_seen', label: 'First seen', sort: 'first_seen', num: true, render: (r) => html`<time datetime=${iso(r.first_seen)} title=${iso(r.first_seen)}>${ago(r.first_seen)}</time>` },
    { key: 'last_seen', label: 'Last seen', sort: 'last_seen', num: true, render: (r) => html`<time datetime=${iso(r.last_seen)} title=${iso(r.last_seen)}>${ago(r.last_seen)}</time>` },
  ];
  return withService ? cols : cols.filter((c) => c.key !== 'service');
}

const keyOf = (r) => `${r.service}\u0000${r.scope}\u0000${r.key}`;

export function KeysView({ params, service, win }) {
  const from = windowFrom(win);
  const over = overLimit(params);
  const cols = columns(over, !service);
  const page = pageParams(params, cols, 'cardinality_estimate');
  const minCard = /^\d{1,15}$/.test(params.min_cardinality ?? '') ? params.min_cardinality : undefined;
  const q = { service: service ?? params.service, scope: KEY_SCOPES.includes(params.scope) ? params.scope : undefined, q: params.q, min_cardinality: minCard, from, ...page };
  const { data, error, stale } = useData(() => api('/keys', q), JSON.stringify(q));
  const services = useServiceNames(!service);
  const [selected, setSelected] = useState();
  const filtered = Boolean(params.q || params.scope || minCard || (!service && params.service));
  const rows = (data?.items ?? []).map((r) => (r.cardinality_estimate >= over ? { ...r, __class: 'over' } : r));
  return html`<div>
    <${Filters} label="Filter keys">
      ${service ? null : html`<${SelectFilter} name="service" label="Service" value=${params.service} options=${services} />`}
      <${SelectFilter} name="scope" label="Scope" value=${params.scope} options=${KEY_SCOPES} />
      <${TextFilter} name="q" label="Key contains" value=${params.q} placeholder="e.g. user" />
      <${TextFilter} name="min_cardinality" label="Min. cardinality" value=${params.min_cardinality} type="number" />
      <${TextFilter} name="over" label="Flag over" value=${params.over ?? ''} placeholder="1000" type="number" />
    </${Filters}>
    <${ErrorBox} error=${error} what="the keys" />
    ${data === undefined
      ? error ? null : html`<${Loading} what="keys" />`
      : data.total === 0 && !filtered
        ? html`<${Empty} title="No keys yet">
            <p>Keys are the attribute and label names on resources, metrics, spans, span events and logs. None has arrived${service ? html` for <strong>${service}</strong>` : ''}.</p>
            <${SendTelemetryHelp} />
          </${Empty}>`
        : html`<${DataTable} id="keys-table" caption=${`Keys${service ? ` of ${service}` : ''}, by ${page.sort} ${page.order === 'asc' ? 'ascending' : 'descending'}`}
            columns=${cols} rows=${rows} rowKey=${keyOf} sort=${page.sort} order=${page.order} busy=${stale} selected=${selected} onSelect=${setSelected}
            empty=${html`No key matches these filters. <${Link} to=${href(location.pathname, service ? { name: service, tab: 'keys' } : {})}>Clear the filters</${Link}>.`} />
          <${Pager} total=${data.total} offset=${page.offset} limit=${page.limit} label="Keys" />`}
  </div>`;
}

export function KeysPage({ params, win }) {
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title">Keys</h1>
    <p class="lede">Attribute and label keys by the number of distinct values seen (a HyperLogLog estimate; values themselves are never stored).
      Keys at or over ${int(overLimit(params))} values are flagged: they are the ones that explode series and index sizes.</p>
    <${KeysView} params=${params} win=${win} />
  </section>`;
}
