import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, tempDir } from '../helpers/server.js';

describe('the keytally command', () => {
  it('runs through npx from the checkout right after npm install (no separate build step)', () => {
    const r = spawnSync('npx', ['--no-install', 'keytally', 'help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/usage: keytally <command>/);
    expect(r.stdout).toMatch(/serve/);
  });

  it('rejects an unknown command or option with exit 2 and a message naming it', () => {
    const a = spawnSync(process.execPath, [BIN, 'frobnicate'], { encoding: 'utf8' });
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/unknown command "frobnicate"/);
    const b = spawnSync(process.execPath, [BIN, 'serve', '--no-such-flag', 'x'], { encoding: 'utf8' });
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/no-such-flag/);
    const c = spawnSync(process.execPath, [BIN, 'serve', '--workers', 'many'], { encoding: 'utf8' });
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/--workers/);
  });

  it('migrate creates the schema in a data directory', () => {
    const dir = join(tempDir(), 'data');
    try {
      const r = spawnSync(process.execPath, [BIN, 'migrate', '--data', dir], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/applied 0001_initial/);
      const again = spawnSync(process.execPath, [BIN, 'migrate', '--data', dir], { encoding: 'utf8' });
      expect(again.stdout).toMatch(/schema is up to date/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
