/** keytally's version: the `version` of the package.json this code was installed with. */
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  // From dist/src/util (installed, built) or src/util (run from source), the package root is two or three levels up.
  for (const up of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'keytally' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}
