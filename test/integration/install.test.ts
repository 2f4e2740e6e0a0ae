/**
 * The install path of the README: `npm pack` holds what runs, `npm install -g` of the tarball puts
 * `keytally` on PATH, and the CI snippet's gate step runs as written with that command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers/server.js';

/** The lines of the README's "telemetry budget" step, as a shell script. */
function readmeGateStep(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('    - name: telemetry budget\n      run: |\n');
  if (start < 0) throw new Error('README.md has no "telemetry budget" step');
  const lines: string[] = [];
  for (const line of readme.slice(start).split('\n').slice(2)) {
    if (!line.startsWith('        ')) break;
    lines.push(line.slice(8));
  }
  return lines.join('\n') + '\n';
}

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

// A workload the snippet's `npm run integration-tests` stands for: OTLP/JSON logs of one service.
const SEND = `
const url = process.env.OTEL_EXPORTER_OTLP_ENDPOINT + '/v1/logs';
const records = [];
for (let i = 0; i < 50; i++) records.push({ severityText: 'INFO', body: { stringValue: 'order ' + i + ' paid' }, attributes: [{ key: 'order.id', value: { stringValue: 'o' + i } }] });
const body = { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] }, scopeLogs: [{ logRecords: records }] }] };
const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
if (r.status !== 200) { console.error('OTLP answered', r.status, await r.text()); process.exit(1); }
`;

/**
 * better-sqlite3's install downloads its prebuilt binary (prebuild-install) and compiles SQLite when it
 * cannot: minutes on this shared machine, which cannot reach the download host. The binary already
 * built in node_modules is offered as the "downloaded" one through prebuild-install's local-prebuilds
 * directory; it is used only if the version npm resolves is the same, else the install compiles.
 */
function localSqlitePrebuild(dir: string): Record<string, string> {
  const pkg = join(ROOT, 'node_modules', 'better-sqlite3');
  const version = (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version;
  const built = join(pkg, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(built)) return {};
  const prebuilds = join(dir, 'prebuilds');
  mkdirSync(prebuilds);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['czf', join(prebuilds, name), '-C', pkg, 'build/Release/better_sqlite3.node']);
  return { npm_config_better_sqlite3_local_prebuilds: prebuilds };
}

describe('installing from a packed tarball', () => {
  let dir: string;
  let tgz: string;
  let prefix: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    dir = tempDir('keytally-install-');
    expect(existsSync(join(ROOT, 'dist', 'src', 'cli.js')), 'dist/ is built by npm test (pretest)').toBe(true);
    // --ignore-scripts: `npm pack` would run the build (prepare) again; pretest has just built dist/.
    const name = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
    tgz = join(dir, name);
    prefix = join(dir, 'prefix');
    mkdirSync(prefix);
    env = { ...process.env, npm_config_prefix: prefix, PATH: `${join(prefix, 'bin')}:${process.env['PATH']}`, ...localSqlitePrebuild(dir) };
    // The README's command, into an empty global prefix (dependencies from the npm cache when it has them).
    execFileSync('npm', ['install', '-g', `./${name}`, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env, encoding: 'utf8', stdio: 'pipe', timeout: 300_000 });
  }, 360_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the compiled code and the bin, not the sources or tests', () => {
    const files = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const f of ['package/bin/keytally.js', 'package/dist/src/cli.js', 'package/dist/workers/writer.js', 'package/dist/workers/ingest.js', 'package/dist/workers/reader.js', 'package/src/ui/static/index.html', 'package/package.json', 'package/README.md']) {
      expect(files).toContain(f);
    }
    // The web UI's own files are served from src/ui/static (plain JS, not compiled); no other source.
    expect(files.filter((f) => /^package\/(test|bench)\/|^package\/src\/(?!ui\/static\/)|\.ts$|\.map$/.test(f))).toEqual([]);
  });

  it('puts keytally on PATH, and it runs', () => {
    expect(readdirSync(join(prefix, 'bin'))).toContain('keytally');
    const r = spawnSync('keytally', ['--version'], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(r.stdout.trim()).toBe(version);
  });

  it("runs the README's CI gate step as written", async () => {
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', scripts: { 'integration-tests': 'node send.mjs' } }));
    writeFileSync(join(project, 'send.mjs'), SEND);
    const otlp = await freePort();
    const api = await freePort();
    // Other tests and people use the default ports on this machine: the same step on free ones.
    const script = readmeGateStep().replaceAll('127.0.0.1:4318', `127.0.0.1:${otlp}`).replaceAll('127.0.0.1:8090', `127.0.0.1:${api}`);
    expect(script).toMatch(/keytally serve --data \.\/kt/);
    const summary = join(dir, 'summary.md');
    // GitHub runs a step with `bash -e`.
    const proc = spawn('bash', ['-e', '-c', script], {
      cwd: project,
      env: { ...env, GITHUB_STEP_SUMMARY: summary, KEYTALLY_OTLP_HTTP: `127.0.0.1:${otlp}`, KEYTALLY_API: `127.0.0.1:${api}`, KEYTALLY_OTLP_GRPC: '127.0.0.1:0', KEYTALLY_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const [code] = await once(proc, 'exit');
      expect(code, out).toBe(0);
    } finally {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        // the step and everything it started have exited
      }
    }
    const report = readFileSync(summary, 'utf8');
    expect(report).toMatch(/^#/m);
    expect(report).toContain('order.id');
    expect(out).toContain('keytally stopped');
  }, 120_000);

  it('serves the web UI from the installed copy', async () => {
    const data = join(dir, 'ui-data');
    const proc = spawn('keytally', ['serve', '--data', data, '--otlp-http', '127.0.0.1:0', '--otlp-grpc', '127.0.0.1:0', '--api', '127.0.0.1:0', '--log-level', 'warn'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const api = await new Promise<number>((resolve, reject) => {
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /keytally listening otlp=\d+ api=(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        proc.once('exit', (code) => reject(new Error(`keytally exited with ${code}:\n${out}`)));
      });
      const page = await fetch(`http://127.0.0.1:${api}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
    } finally {
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      await exited;
    }
  }, 120_000);
});
