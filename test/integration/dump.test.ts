/**
 * keytally export / import / migrate / backup. Round trip SQLite → PostgreSQL
 * → memory → SQLite gives identical API answers; each kind of bad dump gets a
 * clear error and leaves the target unchanged; a live SQLite store backs up.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleApiRequest } from '../../src/api/router.js';
import { importDump, readDump, writeDump } from '../../src/store/dump.js';
import { MemoryStore } from '../../src/store/memory/store.js';
import { PostgresReadStore } from '../../src/store/postgres/read.js';
import { SqliteReadStore } from '../../src/store/sqlite/read.js';
import { CONFORMANCE_SALT } from '../conformance/backends.js';
import { entityQuestions, listQuestions } from '../conformance/questions.js';
import { sendWorkload } from '../conformance/workload.js';
import { freshDatabase } from '../helpers/postgres.js';
import { BIN, ROOT, startKeytally, tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const TUNING = { sqliteCacheMb: 8, sqliteMmapMb: 0, sqliteBusyTimeoutMs: 1000, walAutocheckpointPages: 1000, walLimitMb: 16 };
const MINER = { precision: 14, minerMaxClusters: 1000, minerMaxLineLength: 4096 };
const SMALL = { logs: 300, spans: 120, highCardinality: 400 };

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd: ROOT });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Every API answer of the SQLite store in `dir`, in-process, by question. */
async function answers(dir: string): Promise<Record<string, string>> {
  const store = new SqliteReadStore(dir, TUNING);
  const out: Record<string, string> = {};
  try {
    for (const q of [...listQuestions(), ...entityQuestions(['jobs.done', 'http.server.duration', 'queue.depth', 'requests'])]) {
      const [path, query = ''] = q.split('?');
      const r = await handleApiRequest(store, path!, query);
      out[q] = `${r.status} ${r.body}`;
    }
  } finally {
    await store.close();
  }
  return out;
}

/** A dump's text with `edit` applied to each row line (undefined drops it), its trailer's count and checksum recomputed. */
function resealed(text: string, edit: (line: string) => string | undefined): string {
  const lines = text.split('\n').filter((l) => l !== '');
  const body = lines.slice(0, -1).map((l, i) => (i === 0 ? l : edit(l))).filter((l): l is string => l !== undefined);
  body[0] = edit(body[0]!) ?? body[0]!;
  const sha = createHash('sha256');
  for (const l of body) sha.update(l + '\n');
  return [...body, JSON.stringify({ end: true, rows: body.length - 1, sha256: sha.digest('hex') })].join('\n') + '\n';
}

let src: string;
let srcAnswers: Record<string, string>;
let work: string;

beforeAll(async () => {
  src = tempDir('keytally-dump-src-');
  work = tempDir('keytally-dump-work-');
  const k = await startKeytally({ dataDir: src, args: ['--ack', 'durable', '--workers', '1', '--flush-ms', '20', '--commit-ms', '5', '--hash-salt', CONFORMANCE_SALT.toString()] });
  await sendWorkload([k.otlpUrl], 'all', SMALL);
  expect(await k.stop()).toBe(0);
  srcAnswers = await answers(src);
}, 120_000);

afterAll(async () => {
  const { rmSync } = await import('node:fs');
  for (const d of [src, work]) rmSync(d, { recursive: true, force: true });
});

describe('export, import, migrate', () => {
  it('round trip SQLite → PostgreSQL → memory → SQLite gives identical API answers', async () => {
    const pg = await freshDatabase('kt_roundtrip');
    const m = await cli('migrate', '--from', `sqlite:${src}`, '--to', pg);
    expect(m.stderr).toBe('');
    expect(m.code).toBe(0);
    // PostgreSQL → memory → a dump, in-process (a memory store lives in its process).
    const pgReader = new PostgresReadStore(pg);
    const fromPg = join(work, 'from-pg.jsonl.gz');
    await writeDump(pgReader.dumpSource(), fromPg, { schema: 2, precision: 14, from: 'postgres' });
    await pgReader.close();
    const mem = new MemoryStore({ maxBytes: 1 << 30 });
    await importDump(mem, await readDump(fromPg), MINER);
    const fromMem = join(work, 'from-memory.jsonl.gz');
    await writeDump(mem.dumpSource(), fromMem, { schema: 2, precision: 14, from: 'memory' });
    const dst = join(work, 'dst');
    const i = await cli('import', fromMem, '--data', dst);
    expect(i.stderr).toBe('');
    expect(i.code).toBe(0);
    const got = await answers(dst);
    const diff = Object.keys(srcAnswers).filter((q) => got[q] !== srcAnswers[q]);
    expect(diff.slice(0, 3).map((q) => `${q}\n got  ${got[q]?.slice(0, 400)}\n want ${srcAnswers[q]?.slice(0, 400)}`).join('\n')).toBe('');
    // Most answers have something in them (comparing empty answers proves nothing).
    expect(Object.values(got).filter((a) => a.includes('"total":0') === false).length).toBeGreaterThan(Object.keys(got).length * 0.7);
  }, 120_000);

  describe('bad dumps get a clear error and change nothing', () => {
    let good: string;
    let target: string;
    let before: Record<string, string>;

    beforeAll(async () => {
      good = join(work, 'good.jsonl.gz');
      const e = await cli('export', '--data', src, '--out', good);
      expect(e.code).toBe(0);
      expect(e.stdout).toMatch(/wrote \d+ rows/);
      target = join(work, 'target');
      cpSync(src, target, { recursive: true });
      before = await answers(target);
    }, 60_000);

    async function refused(file: string, message: RegExp): Promise<void> {
      const r = await cli('import', file, '--data', target);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(await answers(target)).toEqual(before);
    }

    it('truncated', async () => {
      const bytes = readFileSync(good);
      const f = join(work, 'truncated.jsonl.gz');
      writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      await refused(f, /truncated/);
      // Cut at a line boundary inside a valid gzip stream: no end line.
      const lines = gunzipSync(bytes).toString().split('\n');
      const g = join(work, 'truncated-lines.jsonl.gz');
      writeFileSync(g, gzipSync(lines.slice(0, Math.floor(lines.length / 2)).join('\n') + '\n'));
      await refused(g, /truncated/);
    });

    it('corrupted', async () => {
      const bytes = Buffer.from(readFileSync(good));
      const f = join(work, 'corrupted.jsonl.gz');
      for (let i = 200; i < 260; i++) bytes[i] = bytes[i]! ^ 0x5a;
      writeFileSync(f, bytes);
      await refused(f, /corrupted|truncated/);
      // Valid gzip, one count changed: the checksum says so.
      const text = gunzipSync(readFileSync(good)).toString().replace(/"logRecords":(\d+)/, (_, n) => `"logRecords":${Number(n) + 1}`);
      const g = join(work, 'tampered.jsonl.gz');
      writeFileSync(g, gzipSync(text));
      await refused(g, /checksum mismatch/);
    });

    it('of a newer format version', async () => {
      const text = gunzipSync(readFileSync(good)).toString().replace(/"version":\d+/, '"version":99');
      const f = join(work, 'newer.jsonl.gz');
      writeFileSync(f, gzipSync(text));
      await refused(f, /format version 99 is newer/);
    });

    it('with a malformed series-estimates row', async () => {
      const f = join(work, 'bad-estimate.jsonl.gz');
      writeFileSync(f, gzipSync(resealed(gunzipSync(readFileSync(good)).toString(), (l) => l.replace(/("t":"estimates".*?"estimate":)\d+/, '$1-5'))));
      await refused(f, /line \d+: a malformed estimates row/);
    });

    it('with another salt, into a non-empty store', async () => {
      const other = tempDir('keytally-dump-other-');
      const k = await startKeytally({ dataDir: other, args: ['--ack', 'durable', '--hash-salt', '42'] });
      await sendWorkload([k.otlpUrl], 'all', { logs: 5, spans: 5, highCardinality: 5 });
      expect(await k.stop()).toBe(0);
      const f = join(work, 'other-salt.jsonl.gz');
      expect((await cli('export', '--data', other, '--out', f)).code).toBe(0);
      await refused(f, /salt differs/);
    }, 60_000);

    it('into a SQLite store that a keytally is serving: refused, and so is a second server; after it stops (even kill -9), it imports', async () => {
      const served = join(work, 'served');
      cpSync(src, served, { recursive: true });
      const k = await startKeytally({ dataDir: served, args: ['--hash-salt', CONFORMANCE_SALT.toString()] });
      try {
        const q = '/api/v1/logs/templates?limit=1000';
        const before = (await k.get(q)).body;
        const r = await cli('import', good, '--data', served);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/another keytally process is writing the store in .*served.*stop it first/);
        expect((await k.get(q)).body).toEqual(before);
        const second = await run(process.execPath, [BIN, 'serve', '--data', served, '--otlp-http', '127.0.0.1:0', '--otlp-grpc', 'off', '--api', '127.0.0.1:0'], { cwd: ROOT })
          .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
        expect(second.code).toBe(2);
        expect(second.stderr).toMatch(/keytally serve: another keytally process is writing the store/);
      } finally {
        await k.stop('SIGKILL');
      }
      // The lock went with the process: the import goes through (counts add: this store already held the same data).
      const ok = await cli('import', good, '--data', served);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
    }, 60_000);

    it('imported twice: the second time is refused, not double-counted', async () => {
      const empty = join(work, 'twice');
      expect((await cli('import', good, '--data', empty)).code).toBe(0);
      const once = await answers(empty);
      expect(once).toEqual(srcAnswers);
      const r = await cli('import', good, '--data', empty);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/already imported/);
      expect(await answers(empty)).toEqual(once);
    }, 60_000);
  });

  it('a version 1 dump (before series estimates) still imports: everything but the estimates over time', async () => {
    const v2 = join(work, 'v2.jsonl.gz');
    expect((await cli('export', '--data', src, '--out', v2)).code).toBe(0);
    const text = gunzipSync(readFileSync(v2)).toString();
    expect(text).toMatch(/"t":"estimates"/);
    const v1 = join(work, 'v1.jsonl.gz');
    writeFileSync(v1, gzipSync(resealed(text, (l) => (l.startsWith('{"t":"estimates"') ? undefined : l.replace(/^(\{"format":"keytally-dump","version":)2/, '$11')))));
    const dst = join(work, 'from-v1');
    const r = await cli('import', v1, '--data', dst);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = await answers(dst);
    const estimates = Object.keys(srcAnswers).filter((q) => q.includes('/series-estimates?'));
    expect(estimates.length).toBeGreaterThan(0);
    for (const q of Object.keys(srcAnswers)) {
      if (!estimates.includes(q) || !srcAnswers[q]!.startsWith('200')) expect(got[q], q).toBe(srcAnswers[q]);
      // No estimates were in the dump: every step is unknown.
      else expect(JSON.parse(got[q]!.slice(4)).items.every((p: { estimate: number | null }) => p.estimate === null), q).toBe(true);
    }
  }, 60_000);

  it('backup copies a live SQLite store consistently', async () => {
    const live = tempDir('keytally-dump-live-');
    cpSync(src, live, { recursive: true });
    const k = await startKeytally({ dataDir: live, args: ['--ack', 'durable'] });
    try {
      const out = join(work, 'backup.db');
      const r = await cli('backup', out, '--data', live);
      expect(r.code).toBe(0);
      const copy = tempDir('keytally-dump-restored-');
      copyFileSync(out, join(copy, 'keytally.db'));
      expect(await answers(copy)).toEqual(srcAnswers);
      // An existing file is not overwritten.
      const again = await cli('backup', out, '--data', live);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/exists/);
    } finally {
      await k.stop();
    }
  }, 60_000);
});
