/**
 * Files of the convlens package, wherever this code runs from: the sources (src/, through
 * tsx), the compiled library (dist/), or the bundled CLI (dist/bin/, its chunks side by
 * side). Paths relative to a module would differ between the three; the package root
 * (the folder of convlens' package.json, found upwards from here) does not. Node only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

function findRoot(): string {
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'convlens') return dir;
    if (dirname(dir) === dir) throw new Error(`convlens' package.json is not above ${here}: the package is incomplete; install it again`);
  }
}

let root: string | undefined;
/** A path inside the package, e.g. packageFile('models', 'fashion-mnist'). */
export function packageFile(...segments: string[]): string {
  return join((root ??= findRoot()), ...segments);
}

/** The folder of the running code: src/ (the sources), dist/ (compiled), or dist/bin/ (the bundled CLI). */
export const codeRoot = dirname(here);

const compiled = extname(here) === '.js';

/** A module of convlens' own by its path under src/ (without extension), as the running code has it (.ts in src/, .js in dist/). */
export function ownModule(path: string): string {
  return compiled ? packageFile('dist', `${path}.js`) : packageFile('src', `${path}.ts`);
}
