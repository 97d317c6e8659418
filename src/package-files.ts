/**
 * Where nestsim's own files are, whether it runs from the TypeScript sources (tests) or from the
 * compiled dist/ (the CLI): worker threads must be started from compiled JavaScript (Node 20 cannot
 * load .ts workers), and the package root holds dist/, config/ and guests/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from './errors.js';

let root: string | undefined;

/** The package root: the nearest directory above this file whose package.json is nestsim's. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  for (let d = dirname(fileURLToPath(import.meta.url)); ; d = dirname(d)) {
    const p = join(d, 'package.json');
    if (existsSync(p)) {
      try {
        if ((JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'nestsim') {
          root = d;
          return d;
        }
      } catch {
        // not a readable package.json: keep looking
      }
    }
    if (dirname(d) === d) throw new Error(`cannot find nestsim's package.json above ${import.meta.url}`);
  }
}

/** Absolute path of a compiled file under dist/ (e.g. 'cores/worker.js'); a UserError if unbuilt. */
export function compiledFile(rel: string): string {
  const p = join(packageRoot(), 'dist', rel);
  if (!existsSync(p)) throw new UserError('', `${p} is missing: build nestsim first (npm run build)`);
  return p;
}
