/**
 * Migration 0010_text_search (src/store/postgres/migrations.ts): where the
 * database lets keytally create pg_trgm, the lists' text filter gets its
 * trigram indexes; where it does not (a role that may create tables but not
 * extensions), the migration still succeeds, nothing is half-made, and the
 * filter answers the same, only without the index.
 */
import { describe, expect, it } from 'vitest';
import { migratePostgres } from '../../src/store/postgres/migrations.js';
import { freshDatabase, sql } from '../helpers/postgres.js';
import { startKeytally } from '../helpers/server.js';
import { LogsReq, encode } from '../helpers/otlp-fixtures.js';
import { post } from '../helpers/server.js';

const indexes = async (url: string) => (await sql<{ indexname: string }>(url, `SELECT indexname FROM pg_indexes WHERE indexname LIKE '%trgm'`)).map((r) => r.indexname).sort();
const trgm = async (url: string) => (await sql(url, `SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'`)).length;

describe('migration 0010_text_search', () => {
  it('with the privilege: pg_trgm and an index on the folded key and template text', async () => {
    const url = await freshDatabase('kt_trgm');
    expect((await migratePostgres(url)).applied).toContain('0010_text_search');
    expect(await trgm(url)).toBe(1);
    expect(await indexes(url)).toEqual(['body_templates_template_trgm', 'key_metadata_key_trgm']);
  });

  it('without it: the migration succeeds without the indexes, and the text filter answers as before', async () => {
    const admin = await freshDatabase('kt_notrgm');
    // A role that owns nothing but may create tables in `public`: CREATE EXTENSION needs CREATE on the database.
    const role = `kt_plain_${process.pid}_${Date.now().toString(36)}`;
    const db = new URL(admin).pathname.slice(1);
    await sql(admin, `CREATE ROLE ${role} LOGIN`);
    await sql(admin, `GRANT CONNECT ON DATABASE ${db} TO ${role}`);
    await sql(admin, `GRANT USAGE, CREATE ON SCHEMA public TO ${role}`);
    const u = new URL(admin);
    u.username = role;
    const url = u.toString();
    expect((await migratePostgres(url)).applied).toContain('0010_text_search');
    expect(await trgm(admin)).toBe(0);
    expect(await indexes(admin)).toEqual([]);

    const k = await startKeytally({ args: ['--store', 'postgres', '--postgres-url', url, '--ack', 'durable'] });
    try {
      const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
      const body = { resourceLogs: [{ resource: { attributes: [str('service.name', 'svc')] }, scopeLogs: [{ logRecords: [
        { severityText: 'INFO', body: { stringValue: 'Order 17 shipped' }, attributes: [str('Customer.ID', 'a'), str('region', 'b')] },
      ] }] }] };
      expect((await post(k, '/v1/logs', encode(LogsReq, body), { 'content-type': 'application/x-protobuf' })).status).toBe(200);
      const keys = await k.get('/api/v1/keys?scope=log&q=customer');
      expect(keys.status).toBe(200);
      expect(keys.body.items.map((i: { key: string }) => i.key)).toEqual(['Customer.ID']);
      const templates = await k.get('/api/v1/logs/templates?q=SHIPPED');
      expect(templates.body.items.map((i: { template: string }) => i.template)).toEqual(['Order <NUM> shipped']);
    } finally {
      expect(await k.stop()).toBe(0);
      k.cleanup();
    }
  });
});
