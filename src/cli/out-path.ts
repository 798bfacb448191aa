/**
 * The one rule for -o: commands that write several files take a folder (made if missing),
 * commands that write one file take that file's path (its folder made if missing). A
 * folder where a file is wanted, a file where a folder is wanted, or the wrong extension
 * fails before any model work, in one line naming the fix.
 */
import { statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { prepareOutDir } from '../report/out-dir.ts';
import { UsageError } from './args.ts';

/** Help text of a folder -o. */
export const folderHelp = 'output folder (made if missing; this command writes several files)';

/** Help text of a file -o. */
export const fileHelp = (kinds: string) => `output file: ${kinds} (this command writes one file; its folder is made if missing)`;

/** The output folder, made and checked writable. */
export function outFolder(path: string): string {
  return prepareOutDir(path);
}

/** The output file's absolute path; `extensions` like ['.svg', '.png'] (lowercase, with the dot). */
export function outFile(path: string, extensions: readonly string[]): string {
  const abs = resolve(path);
  let isFolder = false;
  try {
    isFolder = statSync(abs).isDirectory();
  } catch {
    // absent: fine
  }
  const example = join(path, `out${extensions[0] ?? ''}`);
  if (isFolder) throw new UsageError(`-o '${path}' is a folder, but this command writes one file: give a file name, e.g. -o ${example}`);
  const ext = extname(abs).toLowerCase();
  if (extensions.length && !extensions.includes(ext)) {
    throw new UsageError(`-o '${path}' does not end in ${extensions.join(' or ')}: name the file e.g. -o ${basename(abs, extname(abs)) || 'out'}${extensions[0]}`);
  }
  prepareOutDir(dirname(abs));
  return abs;
}
