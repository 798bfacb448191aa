/**
 * Defaults that travel with a model: input preprocessing, labels and a display name, kept
 * in the ONNX file's own `metadata_props` (standard ONNX key/value pairs, written by
 * `convlens annotate`) or in a sidecar JSON file next to it (`<model>.convlens.json`).
 * Explicit options override both; a sidecar (easy to edit) overrides the file's metadata.
 */
import { ConvlensError } from '../errors.ts';
import type { ModelProto } from '../model/onnx-proto.ts';
import { isPresetName, presetNames, type PresetName } from '../input/presets.ts';
import { resizeModes, type ResizeMode } from '../input/crop-plan.ts';

export interface ModelDefaults {
  name?: string;
  preset?: PresetName;
  resize?: ResizeMode;
  size?: { height: number; width: number };
  labels?: string[];
}

export class MetadataError extends ConvlensError {
  override name = 'MetadataError';
}

/** The metadata_props keys convlens reads and writes. */
export const metadataKeys = {
  name: 'convlens.name',
  preset: 'convlens.preset',
  resize: 'convlens.resize',
  size: 'convlens.size',
  labels: 'convlens.labels',
} as const satisfies Record<keyof ModelDefaults, string>;

/** `model.onnx` -> `model.convlens.json` */
export function sidecarPath(modelPath: string): string {
  return `${modelPath.replace(/\.(onnx|json)$/i, '')}.convlens.json`;
}

/** Check loose values (metadata strings or sidecar JSON) into defaults; `source` names them in errors. */
export function parseDefaults(values: Record<string, unknown>, source: string): ModelDefaults {
  const out: ModelDefaults = {};
  const bad = (key: string, what: string) => new MetadataError(`${source}: ${key} ${what}; fix it with convlens annotate`);
  const { name, preset, resize, size, labels } = values;
  if (name !== undefined) {
    if (typeof name !== 'string') throw bad('name', 'must be a string');
    out.name = name;
  }
  if (preset !== undefined) {
    if (typeof preset !== 'string' || !isPresetName(preset)) throw bad('preset', `must be one of ${presetNames.join(', ')}`);
    out.preset = preset;
  }
  if (resize !== undefined) {
    if (typeof resize !== 'string' || !(resizeModes as readonly string[]).includes(resize)) throw bad('resize', `must be one of ${resizeModes.join(', ')}`);
    out.resize = resize as ResizeMode;
  }
  if (size !== undefined) {
    const parts = typeof size === 'string' ? size.split(/[,x]/).map(Number) : Array.isArray(size) ? size.map(Number) : [];
    const [height, width = height] = parts;
    if (parts.length < 1 || parts.length > 2 || !Number.isInteger(height) || !Number.isInteger(width) || height! <= 0 || width! <= 0) throw bad('size', 'must be H,W (positive integers)');
    out.size = { height: height!, width: width! };
  }
  if (labels !== undefined) {
    const list = typeof labels === 'string' ? safeJson(labels) : labels;
    if (!Array.isArray(list) || !list.every((l) => typeof l === 'string')) throw bad('labels', 'must be a JSON array of strings');
    out.labels = list as string[];
  }
  return out;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The defaults kept in the model's metadata_props. */
export function readMetadataDefaults(model: ModelProto, source = 'the model'): ModelDefaults {
  const byKey = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const values = Object.fromEntries(
    Object.entries(metadataKeys)
      .filter(([, key]) => byKey.has(key))
      .map(([field, key]) => [field, byKey.get(key)]),
  );
  return parseDefaults(values, `${source} metadata`);
}

/** Write defaults into the model's metadata_props (other keys are kept; undefined fields are left as they are). */
export function writeMetadataDefaults(model: ModelProto, defaults: ModelDefaults): void {
  const props = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const text: Partial<Record<keyof ModelDefaults, string>> = {
    ...(defaults.name !== undefined ? { name: defaults.name } : {}),
    ...(defaults.preset !== undefined ? { preset: defaults.preset } : {}),
    ...(defaults.resize !== undefined ? { resize: defaults.resize } : {}),
    ...(defaults.size !== undefined ? { size: `${defaults.size.height},${defaults.size.width}` } : {}),
    ...(defaults.labels !== undefined ? { labels: JSON.stringify(defaults.labels) } : {}),
  };
  for (const [field, value] of Object.entries(text)) props.set(metadataKeys[field as keyof ModelDefaults], value);
  model.metadataProps = [...props].map(([key, value]) => ({ key, value }));
}

/** Later sources win, field by field. */
export function mergeDefaults(...layers: ModelDefaults[]): ModelDefaults {
  return Object.assign({}, ...layers.map((l) => Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)))) as ModelDefaults;
}
