import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('config: --otlp-grpc', () => {
  it('defaults to loopback 4317, takes HOST:PORT or off, from a flag or KEYTALLY_OTLP_GRPC', () => {
    expect(loadConfig({}, {}).otlpGrpc).toBe('127.0.0.1:4317');
    expect(loadConfig({ 'otlp-grpc': 'off' }, {}).otlpGrpc).toBe('off');
    expect(loadConfig({ 'otlp-grpc': '0.0.0.0:14317' }, {}).otlpGrpc).toBe('0.0.0.0:14317');
    expect(loadConfig({}, { KEYTALLY_OTLP_GRPC: '[::1]:4317' }).otlpGrpc).toBe('[::1]:4317');
  });

  it.each(['nope', '127.0.0.1:99999', 'OFF ', ''])('refuses %j, naming the flag', (v) => {
    expect(() => loadConfig({ 'otlp-grpc': v }, {})).toThrow(ConfigError);
    expect(() => loadConfig({ 'otlp-grpc': v }, {})).toThrow(/--otlp-grpc \(KEYTALLY_OTLP_GRPC\)/);
  });
});
