/** Reading a TF.js model.json and its weight shards from disk (Node). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { ModelProto } from '../../model/onnx-proto.ts';
import { importTfjs, type TfjsModelJson } from './index.ts';
import { ImportError } from './errors.ts';

export function readTfjsModelFile(path: string): ModelProto {
  let json: TfjsModelJson;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as TfjsModelJson;
  } catch (e) {
    throw new ImportError(`'${path}' is not readable JSON (${(e as Error).message.split('\n')[0]}): give a TF.js model.json or an .onnx file`);
  }
  const base = dirname(resolve(path));
  return importTfjs(json, (shard) => {
    const file = resolve(base, shard);
    if (isAbsolute(shard) || relative(base, file).startsWith('..')) {
      throw new ImportError(`weight shard '${shard}' points outside the model's folder: refusing to read it`);
    }
    if (!existsSync(file)) throw new ImportError(`weight shard '${shard}' is missing: keep it next to '${path}'`);
    return readFileSync(file);
  });
}
