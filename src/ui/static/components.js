// Small shared pieces: errors, empty states, loading, stat cards, filter inputs.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { setParams } from './url.js';
import { bytes, exactBytes, pct } from './format.js';

/** Bytes in the units a person reads, the exact count on hover; `share` (0-100) after it when given. */
export function Bytes({ n, share, of }) {
  return html`<span class="bytes" title=${exactBytes(n)}>${bytes(n)}</span>${share !== undefined ? html` <span class="muted share" title=${of ? `share of ${of}` : undefined}>${pct(share)}</span>` : null}`;
}

export function ErrorBox({ error, what }) {
  if (!error) return null;
  const status = error.status ? `HTTP ${error.status}: ` : '';
  return html`<div class="error" role="alert">
    <strong>Could not load ${what ?? 'this page'}.</strong> <span class="error-text">${status}${error.message}</span>
    ${error.url ? html`<div class="muted small">request: <code>${error.url}</code></div>` : null}
  </div>`;
}

export function Loading({ what }) {
  return html`<p class="muted" role="status">Loading ${what ?? ''}…</p>`;
}

const OTLP = 'http://127.0.0.1:4318';
// Multi-line text goes in as one string: htm drops whitespace that holds a newline between template parts.
const SDK_ENV = `OTEL_EXPORTER_OTLP_ENDPOINT=${OTLP}
OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`;
const COLLECTOR = `exporters:
  otlphttp/keytally:
    endpoint: ${OTLP}
service:
  pipelines:
    logs:    { receivers: [otlp], exporters: [otlphttp/keytally] }
    traces:  { receivers: [otlp], exporters: [otlphttp/keytally] }
    metrics: { receivers: [otlp], exporters: [otlphttp/keytally] }`;

/** What to do when keytally has seen nothing: point an SDK or a Collector at it. */
export function SendTelemetryHelp() {
  return html`<div class="empty-help">
    <p>Point an OpenTelemetry exporter at keytally's OTLP/HTTP port (<code>--otlp-http</code>, <code>${OTLP}</code> by default):</p>
    <pre><code>${SDK_ENV}</code></pre>
    <p>or add it to an OpenTelemetry Collector as one more exporter:</p>
    <pre><code>${COLLECTOR}</code></pre>
    <p class="muted">This page refreshes by itself: what arrives shows up here within seconds.</p>
  </div>`;
}

export function Empty({ title, children }) {
  return html`<section class="empty" aria-label=${title}>
    <h2>${title}</h2>
    ${children}
  </section>`;
}

export function Stat({ label, value, sub }) {
  return html`<div class="stat">
    <div class="stat-label">${label}</div>
    <div class="stat-value">${value}</div>
    ${sub ? html`<div class="stat-sub">${sub}</div>` : null}
  </div>`;
}

/** A text filter bound to a query parameter; the URL follows the typing after a short pause. */
export function TextFilter({ name, label, value, placeholder, type = 'search', id }) {
  const [v, setV] = useState(value ?? '');
  const timer = useRef();
  const typed = useRef(false);
  useEffect(() => {
    // Follow the URL (back button, a link) unless the user is mid-typing.
    if (!typed.current) setV(value ?? '');
  }, [value]);
  const onInput = (e) => {
    typed.current = true;
    setV(e.target.value);
    clearTimeout(timer.current);
    const next = e.target.value;
    timer.current = setTimeout(() => {
      typed.current = false;
      setParams({ [name]: next, offset: undefined });
    }, 250);
  };
  const fid = id ?? `f-${name}`;
  return html`<div class="field">
    <label for=${fid}>${label}</label>
    <input id=${fid} type=${type} value=${v} placeholder=${placeholder} onInput=${onInput} inputmode=${type === 'number' ? 'numeric' : undefined} min=${type === 'number' ? 0 : undefined} />
  </div>`;
}

export function SelectFilter({ name, label, value, options, id }) {
  const fid = id ?? `f-${name}`;
  // A value from a shared URL stays selectable while the options are still loading (or no longer list it).
  if (value && !options.includes(value)) options = [value, ...options];
  return html`<div class="field">
    <label for=${fid}>${label}</label>
    <select id=${fid} value=${value ?? ''} onChange=${(e) => setParams({ [name]: e.target.value, offset: undefined })}>
      <option value="">all</option>
      ${options.map((o) => html`<option value=${o}>${o}</option>`)}
    </select>
  </div>`;
}

export function Filters({ children, label }) {
  return html`<form class="filters" role="search" aria-label=${label} onSubmit=${(e) => e.preventDefault()}>${children}</form>`;
}
