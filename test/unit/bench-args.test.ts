/**
 * The benches' command-line check (bench/args.ts): what each kind of bad argument answers, and that good ones,
 * and the flags after `--` meant for `keytally serve`, pass.
 */
import { describe, expect, it } from 'vitest';
import { argProblem } from '../../bench/args.js';

const spec = { values: ['runs', 'mix'], flags: ['gzip'], positionals: 1 };

describe('bench arguments', () => {
  it('passes known flags, values (negative numbers too), one bare argument and anything after --', () => {
    expect(argProblem([], spec)).toBeUndefined();
    expect(argProblem(['--runs', '5', '--gzip', 'DIR', '--mix', 'logs=1'], spec)).toBeUndefined();
    expect(argProblem(['--runs', '-1'], spec)).toBeUndefined();
    expect(argProblem(['--gzip', '--', '--flush-ms', '200', 'extra', '--whatever'], spec)).toBeUndefined();
  });

  it('asks for help on --help and -h, wherever they are', () => {
    expect(argProblem(['--help'], spec)).toBe('help');
    expect(argProblem(['--runs', '3', '-h'], spec)).toBe('help');
  });

  it('names an unknown flag, a flag missing its value, and an argument too many', () => {
    expect(argProblem(['--run', '9'], spec)).toBe('unknown flag --run');
    expect(argProblem(['--runs'], spec)).toBe('--runs needs a value');
    expect(argProblem(['--runs', '--gzip'], spec)).toBe('--runs needs a value');
    expect(argProblem(['a', 'b'], spec)).toBe('unexpected argument "b"');
    expect(argProblem(['DIR'], {})).toBe('unexpected argument "DIR"');
  });
});
