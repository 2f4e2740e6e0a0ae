import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/server.js';

interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;

describe('package-lock.json stays as npm install leaves it on a fresh clone', () => {
  it('lists every optional (platform) package a locked package names, for every platform', () => {
    // npm install on a fresh clone adds the entries an install on one platform left out
    // (msgpackr-extract's darwin/win32 binaries were missing): then the tracked lock changes.
    const locked = new Set(Object.keys(lock.packages).map((p) => p.replace(/^.*node_modules\//, '')));
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const dep of Object.keys(entry.optionalDependencies ?? {})) if (!locked.has(dep)) missing.push(`${dep} (of ${path || 'keytally'})`);
    }
    expect(missing).toEqual([]);
  });

  it('has the root dependencies exactly as package.json declares them', () => {
    const root = lock.packages['']!;
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies'] as const) {
      expect(root[field] ?? {}, field).toEqual(pkg[field] ?? {});
    }
  });
});
