// htm bound to preact's h: JSX-like templates with no build step. Text in ${} is always a text node
// (preact sets textContent / attribute values, never innerHTML), which is what keeps untrusted telemetry inert.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
