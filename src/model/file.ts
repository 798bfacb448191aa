/** Loading and saving ONNX files in Node (external data resolved next to the file). */
import { readFileSync, writeFileSync, existsSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { dirname, resolve, isAbsolute, relative } from 'node:path';
import type { ModelProto } from './onnx-proto.ts';
import { ModelError, parseModel, serializeModel } from './model.ts';
import { readTfjsModelFile } from '../import/tfjs/file.ts';

export function readModelFile(path: string): ModelProto {
  if (!existsSync(path)) throw new ModelError(`model file '${path}' does not exist: check the path`);
  if (statSync(path).isDirectory()) throw new ModelError(`'${path}' is a folder, not an .onnx file`);
  // A TF.js model.json is imported to ONNX in memory (weight shards next to it).
  if (path.toLowerCase().endsWith('.json')) return readTfjsModelFile(path);
  const base = dirname(resolve(path));
  const external = (location: string, offset: number, length: number | undefined): Uint8Array => {
    const file = resolve(base, location);
    const rel = relative(base, file);
    if (isAbsolute(location) || rel.startsWith('..')) {
      throw new ModelError(`external data location '${location}' points outside the model's folder: refusing to read it`);
    }
    if (!existsSync(file)) throw new ModelError(`external data file '${location}' is missing: keep it next to '${path}'`);
    const size = statSync(file).size;
    const n = length ?? size - offset;
    if (offset + n > size) throw new ModelError(`external data file '${location}' is shorter than the model says: copy it again`);
    const out = new Uint8Array(n);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, out, 0, n, offset);
    } finally {
      closeSync(fd);
    }
    return out;
  };
  return parseModel(readFileSync(path), { external, source: `'${path}'` });
}

export function writeModelFile(path: string, model: ModelProto): void {
  writeFileSync(path, serializeModel(model));
}
