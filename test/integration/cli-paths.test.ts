import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, tempDir } from '../helpers/server.js';

// Every command given a bad path: one line on stderr naming the path, exit 2, no stack, no spin
// (the timeout turns a spin into a failure: status null).
const dir = tempDir('keytally-paths-');
const file = join(dir, 'a-file');
writeFileSync(file, 'not a directory\n');
const junkDir = join(dir, 'junk');
mkdirSync(junkDir);
writeFileSync(join(junkDir, 'keytally.db'), 'not a database, just text\n');
const lines = join(dir, 'lines.txt');
writeFileSync(lines, 'a line 1\na line 2\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
}

function expectOneLine(r: ReturnType<typeof run>, path: string, what: RegExp) {
  expect(r.status, `${r.stderr}${r.error ?? ''}`).toBe(2);
  const err = r.stderr.trim().split('\n');
  expect(err, r.stderr).toHaveLength(1);
  expect(err[0]).toContain(path);
  expect(err[0]).toMatch(what);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const free = ['--otlp-http', '127.0.0.1:0', '--otlp-grpc', '127.0.0.1:0', '--api', '127.0.0.1:0'];

describe('bad paths, every command', () => {
  it('migrate --data under /proc: refused at once (it spun at 98% CPU)', () => {
    expectOneLine(run('migrate', '--data', '/proc/keytally-nope'), '/proc/keytally-nope', /cannot create the directory/);
  });

  it('migrate and serve --data FILE, --data FILE/sub: no EEXIST/ENOTDIR trace', () => {
    expectOneLine(run('migrate', '--data', file), file, /is a file, not a directory/);
    expectOneLine(run('migrate', '--data', join(file, 'sub')), join(file, 'sub'), /is a file, not a directory/);
    expectOneLine(run('serve', '--data', file, ...free), file, /is a file, not a directory/);
    expectOneLine(run('serve', '--data', join(file, 'sub'), ...free), join(file, 'sub'), /is a file, not a directory/);
    expectOneLine(run('serve', '--data', '/proc/keytally-nope', ...free), '/proc/keytally-nope', /cannot create the directory/);
  });

  it('migrate and serve on a data directory whose keytally.db is not a database', () => {
    expectOneLine(run('migrate', '--data', junkDir), join(junkDir, 'keytally.db'), /not a database/);
    expectOneLine(run('serve', '--data', junkDir, ...free), join(junkDir, 'keytally.db'), /not a database/);
  });

  it('mine: a missing FILE, a directory, --assignments in a missing directory or on a directory', () => {
    expectOneLine(run('mine', join(dir, 'missing.txt')), join(dir, 'missing.txt'), /no such file/);
    expectOneLine(run('mine', dir), dir, /is a directory/);
    const nowhere = join(dir, 'no-such-dir', 'x');
    expectOneLine(run('mine', lines, '--assignments', nowhere), nowhere, /does not exist/);
    expectOneLine(run('mine', lines, '--assignments', dir), dir, /is a directory/);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });

  it('report: a missing store, a directory, a file that is not a store', () => {
    expectOneLine(run('report', '--data', '/proc/keytally-nope'), '/proc/keytally-nope', /no keytally store/);
    expectOneLine(run('report', '--data', file), file, /no keytally store/);
    expectOneLine(run('report', '--store-url', dir), dir, /is a directory/);
    expectOneLine(run('report', '--store-url', `sqlite:${file}`), file, /not a database/);
  });

  it('a --config file that is missing', () => {
    expectOneLine(run('serve', '--config', join(dir, 'nope.json'), ...free), join(dir, 'nope.json'), /config file/);
  });
});
