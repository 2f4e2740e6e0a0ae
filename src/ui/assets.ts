/**
 * The web UI's files, read once at start-up: the app's own modules from
 * `src/ui/static/` and the three libraries (preact, htm, uPlot) from the
 * installed npm packages — no CDN, no build step. Every asset is kept in
 * memory with its ETag; the set is about 150 KB.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** URL under /ui/vendor/ → (package, file inside it). Only these library files are served. */
const VENDOR: Record<string, [string, string]> = {
  'preact.mjs': ['preact', 'dist/preact.module.js'],
  'preact-hooks.mjs': ['preact', 'hooks/dist/hooks.module.js'],
  'htm.mjs': ['htm', 'dist/htm.module.js'],
  'uplot.mjs': ['uplot', 'dist/uPlot.esm.js'],
  'uplot.css': ['uplot', 'dist/uPlot.min.css'],
};

/** Bare specifiers the app imports, mapped to the vendor URLs (an import map in index.html). */
const IMPORT_MAP = {
  imports: {
    preact: '/ui/vendor/preact.mjs',
    'preact/hooks': '/ui/vendor/preact-hooks.mjs',
    htm: '/ui/vendor/htm.mjs',
    uplot: '/ui/vendor/uplot.mjs',
  },
};

/** The folder of the UI's own files, whether this module runs from src/ (tests) or dist/src/ (built). */
function staticDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [join(here, 'static'), join(here, '..', '..', '..', 'src', 'ui', 'static')]) {
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  throw new Error(`web UI files not found next to ${here} (expected src/ui/static/index.html)`);
}

/** Finds an installed package's folder the way Node's resolver walks node_modules (the package may be hoisted). */
function packageDir(name: string): string {
  const require = createRequire(import.meta.url);
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`the web UI needs the npm package '${name}', which is not installed (run npm install)`);
}

function asset(body: Buffer, type: string): Asset {
  return { body, type, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

export interface UiAssets {
  /** The page every UI route answers with. */
  index: Asset;
  /** By URL path, e.g. `/ui/app.js`, `/ui/vendor/preact.mjs`. */
  files: Map<string, Asset>;
  /** Content-Security-Policy for the page: scripts only from this origin plus the inline import map, by its hash. */
  csp: string;
}

export function loadUiAssets(): UiAssets {
  const dir = staticDir();
  const files = new Map<string, Asset>();
  for (const file of walk(dir)) {
    const type = TYPES[extname(file)];
    const rel = relative(dir, file).split(sep).join('/');
    if (!type || rel === 'index.html') continue;
    files.set(`/ui/${rel}`, asset(readFileSync(file), type));
  }
  for (const [url, [pkg, path]] of Object.entries(VENDOR)) {
    files.set(`/ui/vendor/${url}`, asset(readFileSync(join(packageDir(pkg), path)), TYPES[extname(url)]!));
  }
  const importMap = JSON.stringify(IMPORT_MAP);
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  if (!html.includes('<!--importmap-->')) throw new Error('src/ui/static/index.html lacks its <!--importmap--> placeholder');
  const page = html.replace('<!--importmap-->', `<script type="importmap">${importMap}</script>`);
  const hash = createHash('sha256').update(importMap).digest('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { index: asset(Buffer.from(page), TYPES['.html']!), files, csp };
}
