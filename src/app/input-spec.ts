/**
 * What a model's image input needs, decided in one place for the CLI, the explorer and the
 * library: layout, size, normalization preset, resize mode, labels and display name.
 * Explicit options win over the model's own defaults (metadata or sidecar), which win over
 * convlens' defaults (ImageNet statistics for color inputs, [0, 1] for gray ones).
 */
import type { ValueInfoProto } from '../model/onnx-proto.ts';
import { declaredDims } from '../runtime/specialize.ts';
import { batchDims, detectLayout, type InputLayout } from '../input/layout.ts';
import { channelNormalization, presets, type Preset } from '../input/presets.ts';
import type { ResizeMode } from '../input/image-file.ts';
import type { ModelDefaults } from './model-defaults.ts';

/** What a user may set explicitly (CLI flags, API fields). */
export interface InputOverrides {
  preset?: Preset | string;
  resize?: ResizeMode;
  size?: { height: number; width: number };
  labels?: string[];
  name?: string;
}

export interface InputSpec {
  inputName: string;
  /** Declared dims (undefined = symbolic). */
  declared: (number | undefined)[];
  layout: InputLayout;
  /** The size images are fitted to; undefined when the model leaves it open and nobody gave one. */
  size: { height: number; width: number } | undefined;
  preset: Preset | string;
  resize: ResizeMode;
  labels: string[] | undefined;
  name: string;
  /** Where each choice came from, for help and reports. */
  sources: { preset: Source; resize: Source; labels: Source };
  /** One-line warnings about choices that look wrong for this model. */
  warnings: string[];
}

export type Source = 'option' | 'model' | 'default';

export function decideInput(input: ValueInfoProto, defaults: ModelDefaults, overrides: InputOverrides, fallbackName: string): InputSpec {
  const declared = declaredDims(input) ?? [];
  const layout = detectLayout(declared, input.name);
  const pick = <T>(option: T | undefined, model: T | undefined, fallback: T): [T, Source] =>
    option !== undefined ? [option, 'option'] : model !== undefined ? [model, 'model'] : [fallback, 'default'];
  const [preset, presetSource] = pick<Preset | string>(overrides.preset, defaults.preset, layout.channels === 1 ? 'unit' : 'imagenet');
  const [resize, resizeSource] = pick<ResizeMode>(overrides.resize, defaults.resize, 'center-crop');
  const [labels, labelsSource] = pick<string[] | undefined>(overrides.labels, defaults.labels, undefined);
  channelNormalization(preset, layout.channels); // an unknown preset fails here
  const given = overrides.size ?? defaults.size;
  const size = layout.height !== undefined && layout.width !== undefined ? { height: layout.height, width: layout.width } : given;
  return {
    inputName: input.name,
    declared,
    layout,
    size,
    preset,
    resize,
    labels,
    name: overrides.name ?? defaults.name ?? fallbackName,
    sources: { preset: presetSource, resize: resizeSource, labels: labelsSource },
    warnings: presetWarnings(preset, layout.channels),
  };
}

/** A preset whose statistics were made for another channel count than the model's. */
function presetWarnings(preset: Preset | string, channels: 1 | 3): string[] {
  const stats = typeof preset === 'string' ? presets[preset as keyof typeof presets] : preset;
  if (!stats) return [];
  const perChannel = new Set(stats.mean).size > 1 || new Set(stats.std).size > 1;
  if (channels === 1 && perChannel) {
    const name = typeof preset === 'string' ? `'${preset}'` : 'the custom normalization';
    return [`preset ${name} has 3-channel statistics but the model takes 1-channel (gray) images: its averaged statistics are used; give the preset the model was trained with (e.g. --preset unit)`];
  }
  return [];
}

/** The input shape of a batch of `batch` images (undefined when the size is open). */
export function inputShapeOf(spec: InputSpec, batch = 1): number[] | undefined {
  return spec.size && batchDims(spec.layout, batch, spec.size.height, spec.size.width);
}
