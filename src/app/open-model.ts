/** Opening a model file in Node: the file, its metadata and its sidecar JSON, as a Lens. */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readModelFile } from '../model/file.ts';
import type { ModelProto } from '../model/onnx-proto.ts';
import { MetadataError, mergeDefaults, parseDefaults, readMetadataDefaults, sidecarPath, type ModelDefaults } from './model-defaults.ts';
import { Lens, type OpenOptions } from './lens.ts';

/** The defaults of a model file: its metadata, then its sidecar (which wins). */
export function modelFileDefaults(path: string, model: ModelProto): ModelDefaults {
  const fromMetadata = readMetadataDefaults(model, `'${path}'`);
  const sidecar = sidecarPath(path);
  if (!existsSync(sidecar)) return fromMetadata;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(sidecar, 'utf8'));
  } catch (e) {
    throw new MetadataError(`sidecar '${sidecar}' is not valid JSON (${(e as Error).message.split('\n')[0]}): fix or delete it`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new MetadataError(`sidecar '${sidecar}' must be a JSON object with preset, resize, size, labels or name`);
  return mergeDefaults(fromMetadata, parseDefaults(parsed as Record<string, unknown>, `sidecar '${sidecar}'`));
}

export async function openModelFile(path: string, options: Omit<OpenOptions, 'defaults'> = {}): Promise<Lens> {
  const model = readModelFile(path);
  return Lens.open(model, { fallbackName: basename(path), ...options, defaults: modelFileDefaults(path, model) });
}
