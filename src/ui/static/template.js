// A log template with its parameters set apart: `<*>` (a variable token) and the masked kinds (<NUM>, <IP>, ...)
// become styled spans. Every piece is a text node, so markup inside a template or example stays text.
import { html } from './html.js';

const TOKEN = /(<\*>|<NUM>|<HEX>|<IP>|<UUID>|<TS>|<EMAIL>|<URL>)/;

export function TemplateText({ text }) {
  const parts = String(text ?? '').split(TOKEN);
  return html`<span class="tpl">${parts.map((p, i) =>
    i % 2 === 0
      ? p
      : html`<span class=${p === '<*>' ? 'tok tok-wild' : 'tok tok-mask'} title=${p === '<*>' ? 'varies: any token' : `masked: ${p.slice(1, -1).toLowerCase()}`}>${p}</span>`,
  )}</span>`;
}
