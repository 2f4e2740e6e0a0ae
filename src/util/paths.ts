/**
 * Paths a user gives on the command line, checked before anything starts, so that a bad one is one
 * line naming it (exit 2) rather than a stack trace, an unhandled 'error' event or a spin. (Node 20's
 * mkdirSync(recursive) loops forever under /proc, so directories are created a level at a time.)
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

/** Exit status of a command stopped by a bad path. */
export const PATH_EXIT_CODE = 2;

export class PathError extends Error {
  override name = 'PathError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EEXIST: 'exists and is not a directory',
  ENOSPC: 'no space left on the device',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
};

/** A short reason for a file-system error (its code in words, else its message). */
export function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code && REASONS[code]) ?? (err as Error).message;
}

function kindOf(path: string): 'dir' | 'file' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch (err) {
    // ENOTDIR: a parent is a file; the caller walks up and finds it.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw err;
  }
}

/** Makes sure `dir` is a directory, creating it and its parents; `label` names it in errors (e.g. "--data"). */
export function prepareDataDir(dir: string, label: string): void {
  const full = resolve(dir);
  const missing: string[] = [];
  let at = full;
  try {
    for (;;) {
      const kind = kindOf(at);
      if (kind === 'dir') break;
      if (kind === 'file') {
        throw new PathError(dir, at === full ? `${label} ${dir}: is a file, not a directory` : `${label} ${dir}: ${at} is a file, not a directory`);
      }
      missing.push(at);
      const up = dirname(at);
      if (up === at) break;
      at = up;
    }
    for (const d of missing.reverse()) mkdirSync(d);
    if (kindOf(full) !== 'dir') throw new PathError(dir, `${label} ${dir}: cannot create the directory`);
  } catch (err) {
    if (err instanceof PathError) throw err;
    throw new PathError(dir, `${label} ${dir}: cannot create the directory: ${reasonOf(err)}`);
  }
}

/** Makes sure `file` can be read as a file (not a directory). */
export function checkInputFile(file: string, label: string): void {
  let kind: 'dir' | 'file' | 'missing';
  try {
    kind = kindOf(file);
  } catch (err) {
    throw new PathError(file, `${label} ${file}: ${reasonOf(err)}`);
  }
  if (kind === 'missing') throw new PathError(file, `${label} ${file}: no such file`);
  if (kind === 'dir') throw new PathError(file, `${label} ${file}: is a directory, not a file`);
}

/** The parent directory an output file would go in must exist (nothing is created for it). */
export function checkOutputFile(file: string, label: string): void {
  if (file.endsWith(sep)) throw new PathError(file, `${label} ${file}: is a directory name, not a file`);
  let parent: 'dir' | 'file' | 'missing';
  let self: 'dir' | 'file' | 'missing';
  try {
    parent = kindOf(dirname(resolve(file)));
    self = kindOf(file);
  } catch (err) {
    throw new PathError(file, `${label} ${file}: ${reasonOf(err)}`);
  }
  if (parent !== 'dir') throw new PathError(file, `${label} ${file}: the directory ${dirname(resolve(file))} does not exist`);
  if (self === 'dir') throw new PathError(file, `${label} ${file}: is a directory, not a file`);
}
