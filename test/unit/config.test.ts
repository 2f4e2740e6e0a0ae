import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('config: flags, then KEYTALLY_* env, then file, then defaults', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({}, {});
    expect(c.otlpHttp).toBe('127.0.0.1:4318');
    expect(c.api).toBe('127.0.0.1:8090');
    expect(c.ack).toBe('accepted');
    expect(c.flushMs).toBe(200);
    expect(c.maxBodyBytes).toBe(16 * 1024 * 1024);
    expect(c.maxDecompressedBytes).toBe(64 * 1024 * 1024);
    expect(c.precision).toBe(14);
    expect(c.store).toBe('sqlite');
    expect(c.data.endsWith('keytally-data')).toBe(true);
    expect(c.memoryLimitMb).toBe(512);
    expect(c.memorySoftPercent).toBe(80);
  });

  it('flags win over the environment, which wins over the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ flushMs: 50, workers: 3, ack: 'durable' }));
    const c = loadConfig({ config: file, 'flush-ms': '10' }, { KEYTALLY_FLUSH_MS: '20', KEYTALLY_WORKERS: '2' });
    expect(c.flushMs).toBe(10);
    expect(c.workers).toBe(2);
    expect(c.ack).toBe('durable');
  });

  it('accepts USE_DB as in the research note', () => {
    expect(loadConfig({}, { USE_DB: 'sqlite' }).store).toBe('sqlite');
  });

  it.each([
    [{ 'otlp-http': 'nope' }, {}, /--otlp-http.*HOST:PORT/],
    [{ 'otlp-http': '127.0.0.1:99999' }, {}, /--otlp-http.*port out of range/],
    [{ workers: '0' }, {}, /--workers/],
    [{ ack: 'maybe' }, {}, /--ack/],
    [{}, { KEYTALLY_FLUSH_MS: 'soon' }, /KEYTALLY_FLUSH_MS \(--flush-ms\)/],
    [{ bogus: '1' }, {}, /unknown option --bogus/],
    [{}, { USE_DB: 'postgres' }, /--store/],
    [{ 'memory-limit-mb': '32' }, {}, /--memory-limit-mb.*at least 64, or 0/],
    [{ 'memory-soft-percent': '101' }, {}, /--memory-soft-percent/],
  ] as const)('names the bad setting: %j %j', (flags, env, message) => {
    expect(() => loadConfig(flags as Record<string, string>, env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadConfig(flags as Record<string, string>, env as NodeJS.ProcessEnv)).toThrow(message);
  });

  it('rejects an unreadable or unknown-keyed config file', () => {
    expect(() => loadConfig({ config: '/nonexistent/keytally.json' }, {})).toThrow(/config file/);
    const dir = mkdtempSync(join(tmpdir(), 'kt-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ flushMS: 5 }));
    expect(() => loadConfig({ config: file }, {})).toThrow(/unknown setting flushMS/);
  });
});

describe('--memory small', () => {
  it('lowers the memory defaults, but an explicit setting wins', () => {
    const c = loadConfig({ memory: 'small' }, {});
    expect(c.memory).toBe('small');
    expect(c.youngGenerationMb).toBe(4);
    expect(c.sqliteCacheMb).toBe(4);
    expect(c.sketchCacheRows).toBe(5000);
    expect(loadConfig({ memory: 'small', 'sqlite-cache-mb': '32' }, {}).sqliteCacheMb).toBe(32);
    expect(loadConfig({}, {}).youngGenerationMb).toBe(12);
    expect(loadConfig({}, {}).heapGrowthPercent).toBe(10);
    expect(() => loadConfig({ 'heap-growth-percent': '-1' }, {})).toThrow(/--heap-growth-percent/);
    expect(() => loadConfig({ memory: 'tiny' }, {})).toThrow(/--memory/);
  });
});

describe('config: store selection', () => {
  it('takes --store, KEYTALLY_STORE or USE_DB, and the memory bound', () => {
    expect(loadConfig({ store: 'memory' }, {}).store).toBe('memory');
    expect(loadConfig({}, { USE_DB: 'memory' }).store).toBe('memory');
    expect(loadConfig({}, {}).memoryStoreMb).toBe(256);
    expect(loadConfig({ 'memory-store-mb': '8' }, {}).memoryStoreMb).toBe(8);
  });

  it('names the bad setting', () => {
    expect(() => loadConfig({ store: 'oracle' }, {})).toThrow(/--store/);
    expect(() => loadConfig({ 'memory-store-mb': '0' }, {})).toThrow(/--memory-store-mb/);
    expect(() => loadConfig({ 'hash-salt': '-1' }, {})).toThrow(/--hash-salt/);
    expect(() => loadConfig({ 'hash-salt': '18446744073709551616' }, {})).toThrow(/--hash-salt.*2\^64/);
    expect(loadConfig({ 'hash-salt': '18446744073709551615' }, {}).hashSalt).toBe('18446744073709551615');
  });
});
