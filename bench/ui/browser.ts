/**
 * Debian's Chromium driven by playwright-core, for the web UI's tests and
 * bench. scripts/chromium.sh installs it when missing; if it cannot be
 * installed or started this throws (the tests fail, never skip). The flags
 * keep a headless Chromium quiet on a machine without internet: no
 * background fetches, no QUIC, no component updates, a fresh profile.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';

function repoRoot(): string {
  // This file runs from bench/ui/ (vitest) or dist/bench/ui/ (the compiled bench).
  const here = fileURLToPath(new URL('.', import.meta.url));
  return join(here, here.includes(join('dist', 'bench')) ? '../../..' : '../..');
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--mute-audio',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Installs (if needed) and starts Chromium with a fresh profile directory. */
export async function startBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const script = join(repoRoot(), 'scripts', 'chromium.sh');
  let executablePath: string;
  try {
    execFileSync('sh', [script, 'install'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 900_000 });
    executablePath = execFileSync('sh', [script, 'path'], { encoding: 'utf8' }).trim();
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`Chromium is not available for the browser tests: ${e.stderr?.toString().trim() || e.message}`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'keytally-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      timeout: 60_000,
    });
    return {
      context,
      async close() {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`Chromium (${executablePath}) did not start: ${(err as Error).message}`);
  }
}
