#!/usr/bin/env node
// The installed command. The TypeScript is compiled by `npm install` (the prepare script);
// if dist/ is missing (a checkout installed with --ignore-scripts), say how to build it.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('keytally: dist/ is missing; run `npm run build` (npm install runs it for you)\n');
  process.exit(2);
}
const { main } = await import(entry.href);
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    // An error cloned from a worker thread can arrive as a plain object: show its fields, not "[object Object]".
    const text = err?.stack ?? (err && typeof err === 'object' ? JSON.stringify(err) : String(err));
    process.stderr.write(`keytally: ${text}\n`);
    process.exit(1);
  },
);
