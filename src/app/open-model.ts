/** Opening a model file in Node: the file, its metadata and its sidecar JSON, as a Lens. */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readModelFile } from '../model/file.ts';
import type { ModelProto } from '../model/onnx-proto.ts';
import { MetadataError, mergeDefaults, parseDefaults, readMetadataDefaults, sidecarPath, type ModelDefaults } from './model-defaults.ts';
import { Lens, type OpenOptions } from './lens.ts';
import { serializeModel } from '../model/model.ts';
import { contentHash, type DiskCache } from '../runtime/disk-cache.ts';
import type { CompiledStore } from '../autodiff/engine.ts';

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

/**
 * Open a model file as a Lens. `cache`: where compiled graphs are remembered between runs
 * (default: none; the CLI passes the disk cache unless --no-cache), keyed by the file's content.
 */
export async function openModelFile(path: string, options: Omit<OpenOptions, 'defaults' | 'store'> & { cache?: DiskCache } = {}): Promise<Lens> {
  const { cache, ...rest } = options;
  const external = new Set<string>();
  const model = readModelFile(path, external);
  // An imported TF.js model's content is its ONNX form; an .onnx file's is its bytes and its
  // external data files' (hashes the cache remembers by file identity). Hashed when a graph
  // is first looked up (commands that compile nothing never pay for it).
  let hash: string | undefined;
  const modelHash = () => (hash ??= path.endsWith('.onnx') ? [path, ...external].map((f) => cache!.fileHash(f)).join(' ') : contentHash(serializeModel(model)));
  const store: CompiledStore | undefined = cache && {
    read: (key) => cache.read(modelHash(), key),
    write: (key, entry) => cache.write(modelHash(), key, entry),
    optimizedTarget: (key, info) => cache.target(modelHash(), key, info),
    locate: (key) => cache.locate(modelHash(), key),
  };
  return Lens.open(model, { fallbackName: basename(path), ...rest, ...(store ? { store } : {}), defaults: modelFileDefaults(path, model) });
}
