/**
 * The benches' command lines checked before anything runs: `--help` prints the bench's usage and exits, and a flag
 * the bench does not know, or a flag that takes a value given none, stops it with a message that names the flag.
 * Without this a typo (`--run 9`) ran a long bench on its defaults, and `--help` started a week's replay.
 * Flags after a lone `--` are left to whatever the bench passes them to (`keytally serve`).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface ArgSpec {
  /** Flags that take a value (`--runs 5`), without the dashes. */
  values?: readonly string[];
  /** Flags that take none (`--gzip`). */
  flags?: readonly string[];
  /** How many bare arguments (paths, counts) the bench takes at most. */
  positionals?: number;
}

/** What is wrong with `argv` for `spec`, or undefined when nothing is; 'help' when help was asked for. */
export function argProblem(argv: readonly string[], spec: ArgSpec): string | undefined {
  const values = new Set(spec.values ?? []);
  const flags = new Set(spec.flags ?? []);
  let bare = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--help' || a === '-h') return 'help';
    if (!a.startsWith('--')) {
      if (++bare > (spec.positionals ?? 0)) return `unexpected argument "${a}"`;
      continue;
    }
    const name = a.slice(2);
    if (flags.has(name)) continue;
    if (!values.has(name)) return `unknown flag ${a}`;
    const v = argv[i + 1];
    if (v === undefined || (v.startsWith('--') && v !== '--')) return `${a} needs a value`;
    i++;
  }
  return undefined;
}

/** Checks the process's arguments: prints `usage` and exits 0 on --help, prints the problem and exits 2 on bad ones. */
export function checkArgs(usage: string, spec: ArgSpec, argv: readonly string[] = process.argv.slice(2)): void {
  const problem = argProblem(argv, spec);
  if (problem === undefined) return;
  if (problem === 'help') {
    console.log(usage.trim());
    process.exit(0);
  }
  console.error(`${problem}\n\n${usage.trim()}`);
  process.exit(2);
}

/**
 * node:util's parseArgs for a bench, with --help (prints `usage`, exits 0) and its errors (an unknown option, a
 * missing value) printed with the usage instead of thrown as a stack trace (exit 2).
 */
export function parseBenchArgs<T extends ParseArgsConfig>(usage: string, config: T): ReturnType<typeof parseArgs<T>> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage.trim());
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage.trim()}`);
    process.exit(2);
  }
}
