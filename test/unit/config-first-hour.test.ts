import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';

const quiet = () => undefined;

describe('a bad setting is named as the user wrote it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-cfg-src-'));
  const file = join(dir, 'keytally.json');
  writeFileSync(file, JSON.stringify({ flushMs: 'soon' }));

  it('a --config value by its key in that file', () => {
    expect(() => loadConfig({ config: file }, {}, quiet)).toThrow(ConfigError);
    expect(() => loadConfig({ config: file }, {}, quiet)).toThrow(`invalid setting "flushMs" in the config file ${file} (--flush-ms)`);
  });

  it('an environment value by its variable, USE_DB by USE_DB, a flag by the flag', () => {
    expect(() => loadConfig({}, { KEYTALLY_FLUSH_MS: 'soon' }, quiet)).toThrow(/invalid setting KEYTALLY_FLUSH_MS \(--flush-ms\)/);
    expect(() => loadConfig({}, { USE_DB: 'oracle' }, quiet)).toThrow(/invalid setting USE_DB \(--store\)/);
    expect(() => loadConfig({ 'flush-ms': 'soon' }, { KEYTALLY_FLUSH_MS: 'soon' }, quiet)).toThrow(/invalid setting --flush-ms \(KEYTALLY_FLUSH_MS\):/);
  });

  it('the source that won is the one named', () => {
    // The file's bad value is overridden by a good flag: no error at all.
    expect(loadConfig({ config: file, 'flush-ms': '50' }, {}, quiet).flushMs).toBe(50);
    expect(() => loadConfig({ config: file }, { KEYTALLY_FLUSH_MS: 'x' }, quiet)).toThrow(/KEYTALLY_FLUSH_MS/);
  });
});

describe('settings that cannot work together, and variables keytally does not read', () => {
  it('refuses --max-inflight-bytes below --max-body-bytes, naming both', () => {
    expect(() => loadConfig({ 'max-inflight-bytes': '1048576' }, {}, quiet)).toThrow(/--max-inflight-bytes \(KEYTALLY_MAX_INFLIGHT_BYTES\) \(1048576\) is below --max-body-bytes \(KEYTALLY_MAX_BODY_BYTES\) \(16777216\)/);
    expect(() => loadConfig({ 'max-body-bytes': '2048' }, { KEYTALLY_MAX_INFLIGHT_BYTES: '1024' }, quiet)).toThrow(/KEYTALLY_MAX_INFLIGHT_BYTES/);
    expect(loadConfig({ 'max-inflight-bytes': '16777216' }, {}, quiet).maxInflightBytes).toBe(16777216);
  });

  it('warns about an unknown KEYTALLY_* variable by name, suggesting the setting it looks like', () => {
    const warnings: string[] = [];
    loadConfig({}, { KEYTALLY_FLUSHMS: '100', KEYTALLY_NOPE: '1', KEYTALLY_FLUSH_MS: '100', KEYTALLY_CONFIG: '', OTHER: 'x' }, (w) => warnings.push(w));
    expect(warnings).toEqual([
      'unknown environment variable KEYTALLY_FLUSHMS is ignored (did you mean KEYTALLY_FLUSH_MS?)',
      'unknown environment variable KEYTALLY_NOPE is ignored',
    ]);
  });
});

describe('keytally mine --max-line-length', () => {
  it('refuses a value below 16 instead of silently mining 16', async () => {
    const { spawnSync } = await import('node:child_process');
    const { BIN } = await import('../helpers/server.js');
    const r = spawnSync(process.execPath, [BIN, 'mine', '-', '--max-line-length', '10'], { input: 'a line\n', encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--max-line-length must be at least 16, got 10/);
  });
});
