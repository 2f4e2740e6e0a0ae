#!/bin/sh
":" //; export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"; exec node "$0" "$@"
// The installed command. Run as a program, the line above is shell: glibc's malloc reads
// MALLOC_ARENA_MAX only when a process starts, so it is set here, before node (a user's own
// value is kept), and node then runs this same file, where that line is a string and a comment.
// Why 2: every thread (main, ingest workers, writer, reader, libuv's and V8's helpers) otherwise
// gets an arena of its own, up to 8 per core, each holding freed memory the others cannot reuse;
// `npm run bench:memory-server`, alternating on the code before: 279.4 / 275.6 MB peak against
// 299.0 / 295.3 MB without (README, "Whole-process memory").
// The TypeScript is compiled by `npm install` (the prepare script);
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
