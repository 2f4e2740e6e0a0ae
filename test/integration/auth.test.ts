import { describe, expect, it } from 'vitest';
import { startKeytally, post } from '../helpers/server.js';
import { encodeProto, logsRequest } from '../helpers/otlp-build.js';

describe('--auth-token', () => {
  it('requires the bearer token on ingest and API, not on /health', async () => {
    const k = await startKeytally({ args: ['--ack', 'durable', '--flush-ms', '20', '--commit-ms', '5'], env: { KEYTALLY_AUTH_TOKEN: 's3cret' } });
    const body = encodeProto('logs', logsRequest([{ resource: { 'service.name': 'auth' }, logs: [{ body: 'x' }] }]));
    const none = await post(k, '/v1/logs', body);
    expect(none.status).toBe(401);
    const wrong = await post(k, '/v1/logs', body, { 'content-type': 'application/x-protobuf', authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    const right = await post(k, '/v1/logs', body, { 'content-type': 'application/x-protobuf', authorization: 'Bearer s3cret' });
    expect(right.status).toBe(200);
    expect((await k.get('/api/v1/services')).status).toBe(401);
    const ok = await k.get('/api/v1/services', { headers: { authorization: 'Bearer s3cret' } });
    expect(ok.status).toBe(200);
    // Only the authorised request was stored.
    expect(ok.body.items).toEqual([expect.objectContaining({ name: 'auth', log_records: 1 })]);
    expect((await k.get('/health')).status).toBe(200);
    expect(await k.stop()).toBe(0);
    k.cleanup();
  });
});
