import { fileURLToPath } from 'node:url';

/**
 * Absolute path of `webmon_ring.py` inside the installed package (`python/` ships with it). Resolved
 * relative to this module: `src/ring/` in the repository and `dist/` once built are both two levels
 * or one level below the package root, so probe both.
 */
export function ringWriterPythonPath(): string {
  const here = import.meta.url;
  const fromDist = new URL('../python/webmon_ring.py', here);
  const fromSrc = new URL('../../python/webmon_ring.py', here);
  return fileURLToPath(here.includes('/dist/') ? fromDist : fromSrc);
}
