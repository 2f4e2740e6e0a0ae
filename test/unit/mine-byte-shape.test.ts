import { describe, expect, it } from 'vitest';
import { decodeLogs, streamLogs } from '../../src/decode/otlp-proto.js';
import { Extractor } from '../../src/extract/extractor.js';
import { ByteShape } from '../../src/mine/byte-shape.js';
import { TemplateMiner } from '../../src/mine/miner.js';
import { LineScanner } from '../../src/mine/scanner.js';
import { createKeyedHasher } from '../../src/sketch/hash.js';
import { LogsReq, encode, rng } from '../helpers/otlp-fixtures.js';

// A log body mined from its bytes (ByteShape + TemplateMiner.addUtf8, the one-pass path) must give exactly what the
// string path gives: the same shape hashes, hence the same memo hits, templates, counts and examples.

/** Lines of many kinds: templates with masked and free variables, punctuation, odd whitespace, unicode, long ones. */
function lineMaker(seed: number): () => string {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdefABCDEF'[int(22)]).join('');
  const digits = (n: number) => Array.from({ length: n }, () => String(int(10))).join('');
  const word = () => Array.from({ length: 1 + int(9) }, () => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ_-'[int(38)]).join('');
  const value = (): string =>
    pick<() => string>([
      () => String(int(100000)),
      () => `-${int(99)}`,
      () => `+${int(99)}.${int(999)}`,
      () => `${int(9)}.${int(99)}.${int(9)}`,
      () => `${int(5000)}ms`,
      () => `${int(50)}.${int(9)}MB`,
      () => `0x${hex(1 + int(12))}`,
      () => hex(8 + int(24)),
      () => '0' + digits(7 + int(6)),
      () => `${int(256)}.${int(256)}.${int(256)}.${int(256)}`,
      () => `${int(256)}.${int(256)}.${int(256)}.${int(256)}:${int(65536)}`,
      () => `${int(256)}.${int(256)}.${int(256)}`,
      () => `fe80::${hex(4)}:${hex(3)}`,
      () => `[2001:db8::${hex(2)}]:${int(9999)}`,
      () => Array.from({ length: 8 }, () => hex(4)).join(':'),
      () => Array.from({ length: 6 }, () => hex(2)).join(':'),
      () => `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
      () => `${hex(8)}-${hex(4)}-zz`,
      () => `2025-0${1 + int(9)}-1${int(10)}T1${int(10)}:${10 + int(50)}:${10 + int(50)}${pick(['Z', '.123Z', ',978', ''])}`,
      () => `1${int(10)}:${10 + int(50)}:${10 + int(50)}`,
      () => `${int(30)}/${int(12)}/20${int(30)}`,
      () => `${word()}.${int(999)}@example.${pick(['com', 'org', 'c'])}`,
      () => `${word()}@${word()}`,
      () => pick(['a@.b.com', 'ab@c.', 'ab@c.d.', 'x@@y.com', '@a.bc', 'ab@cd.e,', '(me@x.io)']),
      () => pick(['http:', 'a:/', 'x://', 'ab:/c', 'a1:', '9:', '1.', '1.2.', '[::1]:', '[fe80::1]:80']),
      () => `${pick(['http', 'https', 'ftp'])}://${word()}.example.com/${word()}?q=${int(99)}`,
      () => `://${word()}`,
      () => `/var/${word()}/${hex(8)}.log`,
      () => `${word()}=${int(1000)}`,
      () => `"${word()} ${word()}"`,
      () => `'${int(99)}'`,
      () => `(${word()}=${int(9)})`,
      () => `[${word()}]`,
      () => `{${word()}:${int(9)}}`,
      () => pick(['<NUM>', '<*>', '<HEX>', '<IP>', '<UUID>', '<URL>', '<TS>', '<EMAIL>', '<N', '<UU', 'x<NUM>y', '<>', '<', 'a<*>b']),
      () => `blk_-${digits(10)}`,
      () => `R0${int(9)}-M${int(9)}`,
      () => `${word()}:`,
      () => `${word()}::${word()}`,
      () => `${int(9)}:${int(9)}`,
      () => pick(['true', 'false', 'null', 'Mon', 'Dec', 'KB', 'µs', 'ok', '-', ':', '.', '…']),
      () => word(),
    ])();
  const templates = Array.from({ length: 40 }, () => {
    const n = 1 + int(12);
    return Array.from({ length: n }, () => (r() < 0.55 ? word() : null));
  });
  const unicode = ['café', 'naïve', 'Größe', '東京', '🙂', 'ü=1', 'é:', '\uFFFD'];
  return () => {
    const k = r();
    if (k < 0.03) return '';
    if (k < 0.05) return pick([' ', '\t', '  \t ', '\n']);
    if (k < 0.07) return Array.from({ length: 200 + int(2000) }, () => (r() < 0.5 ? word() : value())).join(' ');
    const tpl = pick(templates);
    const toks = tpl.map((w) => w ?? value());
    if (k < 0.15) toks.splice(int(toks.length + 1), 0, pick(unicode));
    if (k < 0.25) toks.splice(int(toks.length + 1), 0, value());
    let out = '';
    for (let i = 0; i < toks.length; i++) out += (i === 0 ? pick(['', '', ' ', '\t']) : pick([' ', ' ', ' ', '  ', '\t', ' \u0001'])) + toks[i];
    return out + pick(['', '', ' ', '.', '\r']);
  };
}

/** The line's UTF-8 inside a buffer with other bytes around it, as a body sits in a request. */
function embed(line: string, fill: number): { buf: Uint8Array; from: number; to: number } {
  const body = Buffer.from(line, 'utf8');
  const buf = Buffer.alloc(body.length + 6, fill);
  body.copy(buf, 3);
  return { buf, from: 3, to: 3 + body.length };
}

const decode = (b: Uint8Array, s: number, e: number) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8', s, e);

describe('ByteShape: shape hashes from UTF-8 bytes', () => {
  it('equals LineScanner over ASCII lines, whatever bytes surround them and wherever the line limit cuts', () => {
    const next = lineMaker(7);
    const bs = new ByteShape();
    let compared = 0;
    let high = 0;
    for (let i = 0; i < 20000; i++) {
      const line = next();
      // '/', ':', '.', '-' around the body would change a token's kind if they were read as part of it.
      const { buf, from, to } = embed(line, [47, 58, 46, 45, 48][i % 5]!);
      for (const max of [4096, 24, 9]) {
        const sc = new LineScanner(max);
        const end = Math.min(line.length, max);
        const bend = Math.min(to, from + max);
        const ok = bs.scan(buf, from, bend, to);
        // Non-ASCII within the scanned bytes: refused (the caller decodes); past them, the prefix is ASCII and valid.
        const ascii = /^[\x00-\x7f]*$/.test(line.slice(0, end));
        expect(ok, JSON.stringify(line)).toBe(ascii && Buffer.byteLength(line.slice(0, end)) === bend - from);
        if (!ok) {
          high++;
          continue;
        }
        sc.scan(line, 0, end);
        expect([bs.n, bs.h1, bs.h2], JSON.stringify({ line, max })).toEqual([sc.n, sc.h1, sc.h2]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(50000);
    expect(high).toBeGreaterThan(1000);
  });
});

describe('TemplateMiner.addUtf8', () => {
  it('mines the same templates, counts, bytes and examples as add() of the decoded line', () => {
    for (const opts of [{}, { maxClusters: 30, maxLineLength: 40 }, { maxClusters: 8, shapeCache: 16 }]) {
      const next = lineMaker(11);
      const a = new TemplateMiner(opts);
      const b = new TemplateMiner(opts);
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 800; i++) {
          const line = next();
          const { buf, from, to } = embed(line, 58);
          const ca = a.add(line, round, i);
          const cb = b.addUtf8(buf, from, to, decode, round, i);
          expect(cb.id).toBe(ca.id);
          expect(b.lastAssignment).toBe(a.lastAssignment);
        }
        expect(b.drain()).toEqual(a.drain());
      }
      const view = (m: TemplateMiner) => m.clusters().map((c) => [c.id, c.template(), c.count]);
      expect(view(b)).toEqual(view(a));
      expect(b.stats).toEqual(a.stats);
      expect(a.stats.clusters).toBeGreaterThan(5);
    }
  });
});

describe('the one-pass path with raw bodies', () => {
  it('folds generated bodies (plain, JSON, logfmt, unicode, empty, long) to the same delta map as the tree path', async () => {
    const hasher = await createKeyedHasher(5n);
    const opts = { workerId: 1, precision: 10, minerMaxClusters: 200, minerMaxLineLength: 512 };
    const tree = new Extractor(hasher, opts);
    const one = new Extractor(hasher, opts);
    const next = lineMaker(3);
    const r = rng(9);
    const now = 1_700_000_000_000;
    for (let req = 0; req < 30; req++) {
      const logRecords = Array.from({ length: 100 }, (_, i) => {
        const line = next();
        const k = r();
        const body =
          k < 0.05
            ? { stringValue: JSON.stringify({ msg: line, n: i }) }
            : k < 0.1
              ? { stringValue: `level=info msg="${line.replace(/["\\]/g, '')}" n=${i}` }
              : k < 0.12
                ? { kvlistValue: { values: [{ key: 'message', value: { stringValue: line } }] } }
                : k < 0.13
                  ? undefined
                  : { stringValue: line };
        return { severityText: r() < 0.5 ? 'INFO' : 'WARN', ...(body === undefined ? {} : { body }), attributes: [] };
      });
      const bytes = encode(LogsReq, { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc${req % 3}` } }] }, scopeLogs: [{ logRecords }] }] });
      const ra = tree.foldLogs(decodeLogs(bytes), now);
      const sink = one.logsSink(now);
      streamLogs(bytes, undefined, sink, (u, out) => hasher.hashBytes(u, out));
      expect(sink.result()).toEqual(ra);
    }
    const a = tree.flush();
    const b = one.flush();
    expect(a.templates.length).toBeGreaterThan(20);
    expect(a.templates.some((t) => /[^\x00-\x7f]/.test(t.template))).toBe(true);
    expect(b).toEqual(a);
  });
});
