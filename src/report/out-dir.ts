/**
 * The output folder of a run, made and checked before any model work starts: a path that
 * is a file, a folder without write permission or a pseudo file system like /proc fails
 * at once with one line, not after minutes of computing (nor in Node's recursive mkdir,
 * which spins for ever under /proc).
 */
import { accessSync, constants, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConvlensError } from '../errors.ts';

export class OutputError extends ConvlensError {
  override name = 'OutputError';
}

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** Make `path` (and missing parents, one by one) and prove it writable by writing a probe file. */
export function prepareOutDir(path: string): string {
  const abs = resolve(path);
  const missing: string[] = [];
  let existing = abs;
  for (;;) {
    let st;
    try {
      st = statSync(existing);
    } catch (e) {
      if (code(e) !== 'ENOENT' && code(e) !== 'ENOTDIR') throw new OutputError(`output folder '${path}' cannot be used (${code(e) ?? (e as Error).message} at '${existing}'): choose another folder with -o`);
      missing.unshift(existing);
      const parent = dirname(existing);
      if (parent === existing) break;
      existing = parent;
      continue;
    }
    if (!st.isDirectory()) throw new OutputError(`'${existing}' is a file, not a folder, so output folder '${path}' cannot be made there: choose another path with -o`);
    break;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (e) {
      if (code(e) === 'EEXIST') continue;
      throw new OutputError(`output folder '${path}' cannot be made (${code(e) ?? (e as Error).message} at '${dir}'): choose a folder you can write to with -o`);
    }
  }
  const probe = join(abs, `.convlens-write-test-${process.pid}`);
  try {
    accessSync(abs, constants.W_OK);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    throw new OutputError(`output folder '${path}' is not writable (${code(e) ?? (e as Error).message}): choose a folder you can write to with -o`);
  }
  return abs;
}
