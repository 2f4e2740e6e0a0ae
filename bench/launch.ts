/**
 * How the benches start `keytally serve`: as a user's shell does, through the
 * installed command's launcher line (bin/keytally.js sets MALLOC_ARENA_MAX
 * before node starts, which a process cannot do for itself), with this node
 * first on PATH so the sidecar runs the same node as the bench. Node flags of
 * an experiment (--cpu-prof, V8 GC flags) can only go on node's own command
 * line, so then node is started directly, with the environment the launcher
 * line would have given it.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'keytally.js');

/** The launcher line's default (bin/keytally.js): kept in step with it by test/integration/launcher.test.ts. */
export const LAUNCHER_ARENA_MAX = '2';

export function sidecarCommand(args: string[], nodeArgs: string[] = []): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` };
  if (nodeArgs.length === 0) return { command: BIN, args, env };
  return { command: process.execPath, args: [...nodeArgs, BIN, ...args], env: { ...env, MALLOC_ARENA_MAX: process.env['MALLOC_ARENA_MAX'] || LAUNCHER_ARENA_MAX } };
}
