/**
 * The installed command's launcher line (bin/keytally.js): run as a program it is shell, and sets
 * MALLOC_ARENA_MAX for node unless the environment has its own; run by node it is JavaScript.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BIN, ROOT, tempDir } from '../helpers/server.js';
import { LAUNCHER_ARENA_MAX } from '../../bench/launch.js';

describe('the keytally launcher', () => {
  let dir: string;
  /** PATH with a stand-in `node` first: it prints what the launcher handed it, and exits. */
  let fakePath: string;

  beforeAll(() => {
    dir = tempDir('keytally-launcher-');
    const fake = join(dir, 'node');
    writeFileSync(fake, '#!/bin/sh\nprintf "arena=%s\\n" "${MALLOC_ARENA_MAX-unset}"\nfor a in "$@"; do printf "arg=%s\\n" "$a"; done\n');
    chmodSync(fake, 0o755);
    fakePath = `${dir}:${process.env['PATH'] ?? ''}`;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const launch = (args: string[], env: NodeJS.ProcessEnv) => {
    const r = spawnSync(BIN, args, { env: { ...process.env, ...env, PATH: fakePath }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim().split('\n');
  };

  it('starts node with MALLOC_ARENA_MAX=2 when the environment has none, this file and every argument intact', () => {
    const out = launch(['serve', '--data', 'a dir with spaces', '--x=$HOME', ''], { MALLOC_ARENA_MAX: undefined });
    expect(out).toEqual(['arena=2', `arg=${BIN}`, 'arg=serve', 'arg=--data', 'arg=a dir with spaces', 'arg=--x=$HOME', 'arg=']);
  });

  it("keeps a user's own MALLOC_ARENA_MAX; an empty one counts as unset", () => {
    expect(launch(['--version'], { MALLOC_ARENA_MAX: '8' })[0]).toBe('arena=8');
    expect(launch(['--version'], { MALLOC_ARENA_MAX: '' })[0]).toBe('arena=2');
  });

  it('runs keytally through the real node, and the same file still runs as `node bin/keytally.js`', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const path = `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`;
    const viaShell = spawnSync(BIN, ['--version'], { env: { ...process.env, PATH: path }, encoding: 'utf8' });
    expect(viaShell.status, viaShell.stderr).toBe(0);
    expect(viaShell.stdout.trim()).toBe(version);
    const viaNode = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
    expect(viaNode.status, viaNode.stderr).toBe(0);
    expect(viaNode.stdout.trim()).toBe(version);
  });

  it('the benches start node the way the launcher does (bench/launch.ts)', () => {
    expect(LAUNCHER_ARENA_MAX).toBe(launch([], { MALLOC_ARENA_MAX: undefined })[0]!.slice('arena='.length));
  });
});
