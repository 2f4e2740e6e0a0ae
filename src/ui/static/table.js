// A table whose sorting and paging happen on the server: headers are buttons that change `sort`/`order` in the URL,
// the pager changes `offset`/`limit`. Rows are keyed, and one row can be selected: arrow keys move the selection
// (roving tabindex, so Tab leaves the table in one step), Enter opens the row's first link.
import { useRef } from 'preact/hooks';
import { html } from './html.js';
import { int } from './format.js';
import { setParams } from './url.js';

export const PAGE_SIZES = [25, 100, 500];
export const DEFAULT_PAGE = 100;

/**
 * Paging and sort from the query string, checked against what the table can sort by, so a hand-edited URL cannot
 * send the API something odd. `columns` are the table's column definitions; the order defaults like the API's
 * (text ascending, numbers descending) and is always sent explicitly.
 */
export function pageParams(params, columns, defaultSort) {
  const limit = PAGE_SIZES.includes(Number(params.limit)) ? Number(params.limit) : DEFAULT_PAGE;
  const offset = /^\d{1,9}$/.test(params.offset ?? '') ? Number(params.offset) : 0;
  const col = columns.find((c) => c.sort && c.sort === params.sort) ?? columns.find((c) => c.sort === defaultSort);
  const sort = col?.sort ?? defaultSort;
  const order = params.order === 'asc' || params.order === 'desc' ? params.order : col?.text ? 'asc' : 'desc';
  return { limit, offset, sort, order };
}

function onSort(col, sort, order) {
  const field = col.sort;
  let next;
  if (field === sort) next = order === 'asc' ? 'desc' : 'asc';
  else next = col.text ? 'asc' : 'desc';
  setParams({ sort: field, order: next, offset: undefined });
}

export function DataTable({ caption, columns, rows, rowKey, sort, order, selected, onSelect, empty, id, busy }) {
  const body = useRef();
  const keys = rows.map(rowKey);
  const selIndex = keys.indexOf(selected);
  const focusRow = (i) => {
    const tr = body.current?.children[i];
    if (!tr) return;
    tr.focus();
    onSelect?.(keys[i]);
  };
  const onKeyDown = (e) => {
    const i = keys.indexOf(e.target.dataset?.key ?? '');
    if (e.target.tagName !== 'TR' || i < 0) return;
    const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: keys.length - 1, j: i + 1, k: i - 1 }[e.key];
    if (to !== undefined) {
      e.preventDefault();
      focusRow(Math.max(0, Math.min(keys.length - 1, to)));
    } else if (e.key === 'Enter') {
      const a = e.target.querySelector('a');
      if (a) {
        e.preventDefault();
        a.click();
      }
    }
  };
  return html`<div class=${busy ? 'table-wrap busy' : 'table-wrap'}>
    <table id=${id} aria-busy=${busy ? 'true' : undefined}>
      <caption>${caption}</caption>
      <thead>
        <tr>
          ${columns.map((c) => {
            const active = c.sort && c.sort === sort;
            const ariaSort = active ? (order === 'asc' ? 'ascending' : 'descending') : undefined;
            return html`<th scope="col" class=${c.num ? 'num' : ''} aria-sort=${ariaSort}>
              ${c.sort
                ? html`<button type="button" class="sort" onClick=${() => onSort(c, sort, order)}>
                    ${c.label}<span class="arrow" aria-hidden="true">${active ? (order === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                  </button>`
                : c.label}
            </th>`;
          })}
        </tr>
      </thead>
      <tbody ref=${body} onKeyDown=${onKeyDown}>
        ${rows.map((r, i) => {
          const k = keys[i];
          const isSel = k === selected;
          const tabIndex = isSel || (selIndex < 0 && i === 0) ? 0 : -1;
          return html`<tr key=${k} data-key=${k} tabindex=${tabIndex} class=${(isSel ? 'sel ' : '') + (r.__class ?? '')}
            aria-current=${isSel ? 'true' : undefined} onClick=${() => onSelect?.(k)} onFocus=${() => onSelect?.(k)}>
            ${columns.map((c) => html`<td class=${c.num ? 'num' : c.cls ?? ''} data-col=${c.key}>${c.render ? c.render(r) : r[c.key]}</td>`)}
          </tr>`;
        })}
      </tbody>
    </table>
    ${rows.length === 0 ? html`<div class="table-empty">${empty ?? 'Nothing matches.'}</div>` : null}
  </div>`;
}

export function Pager({ total, offset, limit, label }) {
  if (!total) return null;
  const from = Math.min(total, offset + 1);
  const to = Math.min(total, offset + limit);
  return html`<nav class="pager" aria-label=${`${label} pages`}>
    <span class="pager-info" aria-live="polite">${int(from)}–${int(to)} of ${int(total)}</span>
    <button type="button" disabled=${offset <= 0} onClick=${() => setParams({ offset: Math.max(0, offset - limit) || undefined }, { replace: false })}>← Previous</button>
    <button type="button" disabled=${offset + limit >= total} onClick=${() => setParams({ offset: offset + limit }, { replace: false })}>Next →</button>
    <label>Rows <select value=${limit} onChange=${(e) => setParams({ limit: e.target.value, offset: undefined })}>
      ${PAGE_SIZES.map((n) => html`<option value=${n}>${n}</option>`)}
    </select></label>
  </nav>`;
}
