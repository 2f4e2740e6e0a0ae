import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLAG_NAMES } from '../../src/config.js';
import { BIN, ROOT } from '../helpers/server.js';

const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });

describe('--help and --version', () => {
  it.each(['serve', 'migrate', 'mine', 'report'])('keytally %s --help prints its usage on stdout and exits 0', (command) => {
    for (const flag of ['--help', '-h']) {
      const r = run(command, flag);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: keytally ${command}`));
      expect(r.stderr).toBe('');
    }
  });

  it('serve --help lists every setting', () => {
    const r = run('serve', '--help');
    for (const flag of [...Object.values(FLAG_NAMES), 'config']) expect(r.stdout).toContain(`--${flag} `);
  });

  it('keytally --version prints the package version', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) {
      const r = run(flag);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });

  it('the top-level usage points at the per-command help', () => {
    const r = run('--help');
    expect(r.stdout).toMatch(/keytally COMMAND --help/);
    expect(r.stdout).toMatch(/--version/);
  });
});
