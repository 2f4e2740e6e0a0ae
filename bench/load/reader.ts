/**
 * The API reader that runs during the load: the questions a user asks while
 * the sidecar ingests (services, log templates, keys), one after the other in
 * a loop, with each latency recorded. A pause between queries (default 50 ms,
 * about what a few open dashboards poll) keeps it a reader and not a second
 * load generator; --reader-pause 0 makes it a tight loop. It shows whether queries stay fast under
 * ingest, and (compared with a --no-reader run) whether they slow ingest down.
 */

export const READER_PATHS = ['/api/v1/services', '/api/v1/logs/templates', '/api/v1/keys'] as const;

export interface ReaderResult {
  queries: number;
  errors: number;
  latenciesMs: number[];
  byPath: Record<string, number[]>;
}

export class ApiReader {
  private running = false;
  private loop: Promise<void> | undefined;
  readonly result: ReaderResult = { queries: 0, errors: 0, latenciesMs: [], byPath: {} };

  constructor(
    private readonly apiPort: number,
    private readonly pauseMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Forgets what was measured so far (the warm-up). */
  reset(): void {
    this.result.queries = 0;
    this.result.errors = 0;
    this.result.latenciesMs = [];
    this.result.byPath = {};
  }

  async stop(): Promise<ReaderResult> {
    this.running = false;
    await this.loop;
    return this.result;
  }

  private async run(): Promise<void> {
    let i = 0;
    while (this.running) {
      const path = READER_PATHS[i++ % READER_PATHS.length]!;
      const t0 = performance.now();
      try {
        const r = await fetch(`http://127.0.0.1:${this.apiPort}${path}`);
        // The whole body counts: a user waits for the answer, not for the headers.
        await r.arrayBuffer();
        if (!r.ok) this.result.errors++;
      } catch {
        this.result.errors++;
      }
      const ms = performance.now() - t0;
      this.result.queries++;
      this.result.latenciesMs.push(ms);
      (this.result.byPath[path] ??= []).push(ms);
      if (this.pauseMs > 0) await new Promise((r) => setTimeout(r, this.pauseMs));
    }
  }
}
