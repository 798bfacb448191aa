/** Loading and saving ONNX files in Node (external data resolved next to the file). */
import { readFileSync, writeFileSync, statSync, openSync, closeSync, realpathSync, type Stats } from 'node:fs';
import { dirname, resolve, isAbsolute, relative, sep } from 'node:path';
import type { ModelProto } from './onnx-proto.ts';
import { ModelError, parseModel, serializeModel } from './model.ts';
import { readTfjsModelFile } from '../import/tfjs/file.ts';
import { scanModelFile } from './file-scan.ts';
import { readAt } from '../read-at.ts';

/** stat() of a path, undefined when it does not exist. */
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new ModelError(`'${path}' cannot be read: ${(e as Error).message}`);
  }
}

const inside = (base: string, file: string) => {
  const rel = relative(base, file);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
};

/**
 * From which file size, and which size of a weight, weights are read when first used
 * rather than with the file (file-scan.ts).
 */
export interface DeferOptions {
  fileBytes: number;
  tensorBytes: number;
}
export const defaultDefer: DeferOptions = { fileBytes: 8 * 1024 ** 2, tensorBytes: 64 * 1024 };

/**
 * Read a model file; `externalFiles` receives the paths of the external data files it read.
 * A large file's weights are read when first used (`defer`).
 */
export function readModelFile(path: string, externalFiles?: Set<string>, defer: DeferOptions = defaultDefer): ModelProto {
  const st = statOf(path);
  if (!st) throw new ModelError(`model file '${path}' does not exist: check the path`);
  if (st.isDirectory()) throw new ModelError(`'${path}' is a folder, not an .onnx file`);
  // A FIFO or device would block or never end: only regular files are read.
  if (!st.isFile()) throw new ModelError(`'${path}' is not a regular file (a pipe, socket or device): save the model to a file`);
  // A TF.js model.json is imported to ONNX in memory (weight shards next to it).
  if (path.toLowerCase().endsWith('.json')) return readTfjsModelFile(path);
  const base = dirname(resolve(path));
  const realBase = realpathSync(base);
  const external = (location: string, offset: number, length: number | undefined): Uint8Array => {
    const file = resolve(base, location);
    if (isAbsolute(location) || location.includes('\0') || !inside(base, file)) {
      throw new ModelError(`external data location '${location}' points outside the model's folder: refusing to read it`);
    }
    const fst = statOf(file);
    if (!fst) throw new ModelError(`external data file '${location}' is missing: keep it next to '${path}'`);
    if (!fst.isFile()) throw new ModelError(`external data '${location}' is not a regular file (a folder, pipe or device): keep the weights file next to '${path}'`);
    // Through symlinks too: the real file must be inside the model's real folder.
    if (!inside(realBase, realpathSync(file))) throw new ModelError(`external data location '${location}' links outside the model's folder: refusing to read it`);
    externalFiles?.add(file);
    const size = fst.size;
    const n = length ?? size - offset;
    if (offset > size || n < 0 || offset + n > size) {
      throw new ModelError(`external data file '${location}' has ${size} bytes, but the model reads ${length ?? 'the rest'} from offset ${offset}: the file is truncated or not the one exported with the model; copy it again`);
    }
    const out = new Uint8Array(n);
    const fd = openSync(file, 'r');
    try {
      if (readAt(fd, out, offset) < n) throw new ModelError(`external data file '${location}' ended early: copy it again`);
    } finally {
      closeSync(fd);
    }
    return out;
  };
  const source = `'${path}'`;
  const scanned = st.size >= defer.fileBytes ? scanModelFile(path, defer.tensorBytes) : undefined;
  if (scanned) {
    return parseModel(scanned.skeleton, { external, source, deferred: scanned.deferred });
  }
  return parseModel(readFileSync(path), { external, source });
}

export function writeModelFile(path: string, model: ModelProto): void {
  writeFileSync(path, serializeModel(model));
}
