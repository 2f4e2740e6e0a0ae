// The app shell: header, navigation, the window switch, live refresh and the token prompt; routes by path.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getToken, onAuthNeeded, setToken } from './api.js';
import { DEFAULT_WINDOW, WINDOWS } from './format.js';
import { html } from './html.js';
import { configureLive } from './live.js';
import { href, Link, setParams, useLocation } from './url.js';
import { ChangesPage } from './pages/changes.js';
import { KeysPage } from './pages/keys.js';
import { MetricPage } from './pages/metric.js';
import { OverviewPage } from './pages/overview.js';
import { ServicePage } from './pages/service.js';
import { TemplatesPage } from './pages/templates.js';

const PAGES = {
  '/': { title: 'Overview', Page: OverviewPage },
  '/service': { title: 'Service', Page: ServicePage, nav: false },
  '/templates': { title: 'Log templates', Page: TemplatesPage },
  '/keys': { title: 'Keys', Page: KeysPage },
  '/metric': { title: 'Metrics', Page: MetricPage },
  '/changes': { title: 'What changed', Page: ChangesPage },
};

function TokenPrompt({ wrong, onDone }) {
  const input = useRef();
  useEffect(() => input.current?.focus(), []);
  const submit = (e) => {
    e.preventDefault();
    const v = input.current.value.trim();
    if (!v) return;
    setToken(v);
    onDone();
  };
  return html`<section class="token" aria-labelledby="token-title">
    <h1 id="token-title">This keytally needs a token</h1>
    <p>It was started with <code>--auth-token</code>. Enter the same token to read its API; it is kept for this browser tab only.</p>
    ${wrong ? html`<p class="error" role="alert">That token was refused. Check it and try again.</p>` : null}
    <form onSubmit=${submit}>
      <div class="field">
        <label for="token-input">Token</label>
        <input id="token-input" ref=${input} type="password" autocomplete="current-password" required />
      </div>
      <button type="submit" class="primary">Open</button>
    </form>
  </section>`;
}

function WindowSwitch({ win }) {
  return html`<fieldset class="switch">
    <legend>Window</legend>
    ${Object.keys(WINDOWS).map((w) => html`<button type="button" aria-pressed=${w === win ? 'true' : 'false'} onClick=${() => setParams({ window: w === DEFAULT_WINDOW ? undefined : w })}>${w}</button>`)}
  </fieldset>`;
}

function LiveToggle({ seconds, paused, setPaused }) {
  if (!(seconds > 0)) return html`<span class="muted small">live refresh off</span>`;
  return html`<button type="button" class="live" aria-pressed=${paused ? 'false' : 'true'} onClick=${() => setPaused(!paused)}
    title=${paused ? 'refreshing is paused' : `refreshing every ${seconds} s`}>${paused ? 'Paused' : `Live · ${seconds} s`}</button>`;
}

function App() {
  const loc = useLocation();
  const [auth, setAuth] = useState(undefined); // undefined | {wrong: boolean}
  const [paused, setPaused] = useState(false);
  const [epoch, setEpoch] = useState(0);
  useEffect(() => onAuthNeeded((hadToken) => setAuth({ wrong: hadToken })), []);
  const route = PAGES[loc.path] ?? null;
  const params = loc.params;
  const win = WINDOWS[params.window] ? params.window : DEFAULT_WINDOW;
  const refresh = /^\d{1,4}$/.test(params.refresh ?? '') ? Number(params.refresh) : 10;
  useEffect(() => configureLive(refresh, paused || Boolean(auth)), [refresh, paused, auth]);
  useEffect(() => {
    document.title = route ? `${route.title}${params.name ? `: ${params.name}` : ''} · keytally` : 'Not found · keytally';
  }, [loc]);
  // Keep the window (and refresh rate) when moving between pages.
  const keep = { window: params.window, refresh: params.refresh };
  let main;
  if (auth) {
    main = html`<${TokenPrompt} wrong=${auth.wrong} onDone=${() => {
      setAuth(undefined);
      setEpoch(epoch + 1);
    }} />`;
  } else if (!route) {
    main = html`<section><h1 id="page-title">No such page</h1><p>There is nothing at <code>${loc.path}</code>. Go to the <${Link} to="/">overview</${Link}>.</p></section>`;
  } else {
    main = html`<${route.Page} key=${`${loc.path}:${epoch}`} params=${params} win=${win} />`;
  }
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <${Link} to=${href('/', keep)} class="brand" aria-label="keytally overview">keytally</${Link}>
      <nav aria-label="Pages" class="nav">
        ${Object.entries(PAGES)
          .filter(([, p]) => p.nav !== false)
          .map(([path, p]) => html`<${Link} to=${href(path, keep)} aria-current=${loc.path === path ? 'page' : undefined}>${p.title}</${Link}>`)}
      </nav>
      <div class="controls">
        <${WindowSwitch} win=${win} />
        <${LiveToggle} seconds=${refresh} paused=${paused} setPaused=${setPaused} />
        ${getToken() ? html`<button type="button" class="link" onClick=${() => { setToken(''); setEpoch(epoch + 1); }}>Forget token</button>` : null}
      </div>
    </header>
    <main id="main" tabindex="-1">${main}</main>
    <footer class="foot muted small">keytally keeps the shape of your telemetry, not its values. Data: <a href="/api">/api</a></footer>`;
}

render(html`<${App} />`, document.getElementById('app'));
// For tests and people: an unhandled error is a console error, never a silent blank page.
addEventListener('unhandledrejection', (e) => console.error('keytally UI:', e.reason));
