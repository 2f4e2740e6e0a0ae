import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { credentials, makeGenericClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js';
import { BIN, ROOT, startKeytally, tempDir } from '../helpers/server.js';
import { encodeProto, logsRequest, tracesRequest } from '../helpers/otlp-build.js';
import { GRPC_PATHS } from '../helpers/grpc-raw.js';
import { rmSync } from 'node:fs';

type Export = (req: Buffer, cb: (err: ServiceError | null, res?: Buffer) => void) => void;

/** A grpc-js client (the library real exporters use) for one Export service, bytes in and out. */
function exportClient(port: number, path: string): Client & { Export: Export } {
  const Ctor = makeGenericClientConstructor(
    { Export: { path, requestStream: false, responseStream: false, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b } },
    'Export',
  );
  return new Ctor(`127.0.0.1:${port}`, credentials.createInsecure()) as Client & { Export: Export };
}

const call = (c: { Export: Export }, body: Uint8Array) =>
  new Promise<number>((resolve) => c.Export(Buffer.from(body), (err) => resolve(err ? err.code : 0)));

describe('OTLP/gRPC shutdown', () => {
  it('SIGTERM under gRPC load: every message answered OK is committed, the rest are refused UNAVAILABLE', async () => {
    // Long flush and commit intervals: without the drain, acknowledged records would still sit in the workers.
    const k = await startKeytally({ args: ['--ack', 'accepted', '--flush-ms', '60000', '--commit-ms', '60000', '--workers', '2'] });
    const logsClient = exportClient(k.grpcPort, GRPC_PATHS.logs);
    const tracesClient = exportClient(k.grpcPort, GRPC_PATHS.traces);
    let okLogs = 0;
    let okSpans = 0;
    let answered = 0;
    const failures = new Map<number, number>();
    let signalled: () => void;
    const enoughSent = new Promise<void>((r) => (signalled = r));
    // Four senders in a loop until their first refusal (the sidecar has stopped taking calls).
    const sender = async (id: number) => {
      for (let i = 0; ; i++) {
        const n = 1 + ((i + id) % 13);
        const isLogs = (i + id) % 3 !== 0;
        const body = isLogs
          ? encodeProto('logs', logsRequest([{ resource: { 'service.name': 'drain' }, logs: Array.from({ length: n }, (_, j) => ({ body: `line ${id} ${i} ${j}` })) }]))
          : encodeProto('traces', tracesRequest([{ resource: { 'service.name': 'drain' }, spans: Array.from({ length: n }, () => ({ name: 'op' })) }]));
        const code = await call(isLogs ? logsClient : tracesClient, body);
        if (code !== 0) {
          failures.set(code, (failures.get(code) ?? 0) + 1);
          return;
        }
        if (isLogs) okLogs += n;
        else okSpans += n;
        if (++answered === 60) signalled();
      }
    };
    const senders = Promise.all([0, 1, 2, 3].map(sender));
    await enoughSent;
    const exit = k.stop('SIGTERM');
    await senders;
    expect(await exit).toBe(0);
    logsClient.close();
    tracesClient.close();
    // A refusal is UNAVAILABLE: answered by keytally while draining, or by grpc-js once the listener is closed.
    expect([...failures.keys()]).toEqual([14]);
    const db = new Database(join(k.dataDir, 'keytally.db'), { readonly: true });
    const row = db.prepare(`SELECT log_records, spans FROM services WHERE name = 'drain'`).get() as { log_records: number; spans: number };
    db.close();
    expect(okLogs).toBeGreaterThan(0);
    expect(okSpans).toBeGreaterThan(0);
    expect(row).toEqual({ log_records: okLogs, spans: okSpans });
    k.cleanup();
  });
});

describe('OTLP/gRPC listener settings', () => {
  it('a gRPC port already in use stops start-up with one line naming the port and the flag, exit 2, no stack trace', async () => {
    const k = await startKeytally();
    const data = tempDir();
    try {
      const address = `127.0.0.1:${k.grpcPort}`;
      const r = spawnSync(process.execPath, [BIN, 'serve', '--data', data, '--otlp-http', '127.0.0.1:0', '--api', '127.0.0.1:0', '--otlp-grpc', address], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(address);
      expect(lines[0]).toContain('--otlp-grpc');
      expect(lines[0]).toMatch(/already in use/);
      expect(r.stdout).not.toMatch(/keytally listening/);
      // The sidecar that holds the port is untouched.
      expect((await k.get('/ready')).status).toBe(200);
    } finally {
      expect(await k.stop()).toBe(0);
      k.cleanup();
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('--otlp-grpc off serves no gRPC', async () => {
    const k = await startKeytally({ args: ['--otlp-grpc', 'off'] });
    expect(k.grpcPort).toBe(0);
    expect(k.stdout()).toMatch(/grpc=off/);
    expect(await k.stop()).toBe(0);
    k.cleanup();
  });
});
