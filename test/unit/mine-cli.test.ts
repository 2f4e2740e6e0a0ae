import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runMine } from '../../src/cli/mine.js';
import { groupingAccuracy } from '../../src/mine/accuracy.js';
import { generateLogs } from '../helpers/log-generator.js';

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

describe('keytally mine (point 1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-mine-'));
  const g = generateLogs({ seed: 4, lines: 3000 });
  const file = join(dir, 'logs.txt');
  // CRLF and no final newline: both must be handled.
  writeFileSync(file, g.lines.join('\r\n'));

  it('prints templates with counts, most frequent first', async () => {
    expect(await runMine([file])).toBe(0);
    const rows = out.trim().split('\n').map((l) => Number(l.trim().split(/\s+/)[0]));
    expect(rows.reduce((a, b) => a + b, 0)).toBe(3000);
    expect([...rows].sort((a, b) => b - a)).toEqual(rows);
    expect(out).toContain('Received block blk_<NUM> of size <NUM> from /<IP>');
  });

  it('--json --top N with stats', async () => {
    expect(await runMine([file, '--json', '--top', '3'])).toBe(0);
    const j = JSON.parse(out);
    expect(j.lines).toBe(3000);
    expect(j.templates).toHaveLength(3);
    expect(j.stats).toMatchObject({ evictions: 0, overflow: 0, truncated: 0 });
    expect(j.templates[0].count).toBeGreaterThanOrEqual(j.templates[1].count);
  });

  it('--assignments writes the final template id of every line', async () => {
    const asg = join(dir, 'asg.txt');
    expect(await runMine([file, '--json', '--assignments', asg])).toBe(0);
    const ids = readFileSync(asg, 'utf8').trim().split('\n').map(Number);
    expect(ids).toHaveLength(3000);
    expect(groupingAccuracy(ids, g.truth)).toBe(1);
    const live = new Set(JSON.parse(out).templates.map((t: { id: number }) => t.id));
    for (const id of ids) expect(live.has(id)).toBe(true);
  });

  it('rejects bad usage with exit code 2', async () => {
    expect(await runMine([])).toBe(2);
    expect(await runMine([file, '--top', 'x'])).toBe(2);
    expect(err).toContain('usage');
  });
});
