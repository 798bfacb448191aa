/**
 * Input normalization presets: the one place that says what each preset means.
 *
 * Every preset is the affine map, per model channel c,
 *
 *     value = (pixel * scale - mean[c]) / std[c]        pixel in 0..255
 *
 * applied after the channels are put in `order` ('bgr' reverses R and B). `mean` and `std`
 * are listed in the model's channel order (for caffe: B, G, R). Pure and browser-safe.
 *
 * Gray (1-channel) models: the RGB pixel becomes ITU-R BT.601 luma
 * 0.299 R + 0.587 G + 0.114 B (still 0..255) and is normalized with one mean/std pair:
 * the first entry of `mean`/`std`, except for `imagenet`, which uses the average of its
 * three values (mean 0.449, std 0.226), the usual choice when a 3-channel ImageNet
 * normalization is carried over to gray models; for `caffe` the first entry is the B mean
 * (103.939).
 */
import { InputError } from './layout.ts';

/** A custom normalization (see the formula above). `mean`/`std` have 1 or 3 entries. */
export interface Normalization {
  mean: number[];
  std: number[];
  scale: number;
  order: 'rgb' | 'bgr';
}

export const presetNames = ['imagenet', 'unit', 'none', 'raw', 'tf', 'caffe'] as const;
export type PresetName = (typeof presetNames)[number];
export type Preset = PresetName | Normalization;

export interface PresetInfo extends Normalization {
  /** One line for help texts. */
  description: string;
  /** The mean/std used for 1-channel (gray) models. */
  gray: { mean: number; std: number };
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
const average = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

export const presets: Readonly<Record<PresetName, Readonly<PresetInfo>>> = {
  imagenet: {
    description: 'RGB, x/255 then (x - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225] (torchvision, timm)',
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    scale: 1 / 255,
    order: 'rgb',
    gray: { mean: average(IMAGENET_MEAN), std: average(IMAGENET_STD) },
  },
  unit: { description: 'RGB, x/255: values in [0, 1]', mean: [0], std: [1], scale: 1 / 255, order: 'rgb', gray: { mean: 0, std: 1 } },
  none: {
    description: "same as 'unit' (x/255, values in [0, 1]): no mean/std normalization",
    mean: [0],
    std: [1],
    scale: 1 / 255,
    order: 'rgb',
    gray: { mean: 0, std: 1 },
  },
  raw: { description: 'RGB, 0..255 as float, no scaling', mean: [0], std: [1], scale: 1, order: 'rgb', gray: { mean: 0, std: 1 } },
  tf: { description: "RGB, x/127.5 - 1: values in [-1, 1] (Keras 'tf' mode, MobileNet, Inception)", mean: [1], std: [1], scale: 1 / 127.5, order: 'rgb', gray: { mean: 1, std: 1 } },
  caffe: {
    description: "BGR, 0..255 minus [103.939, 116.779, 123.68], no scaling (Keras 'caffe' mode: VGG, ResNet50 from Keras)",
    mean: [103.939, 116.779, 123.68],
    std: [1, 1, 1],
    scale: 1,
    order: 'bgr',
    gray: { mean: 103.939, std: 1 },
  },
};

export function isPresetName(name: string): name is PresetName {
  return (presetNames as readonly string[]).includes(name);
}

/** The per-channel constants of a preset for a model with `channels` channels, validated. */
export interface ChannelNormalization {
  /** One entry per model channel (in model channel order). */
  mean: number[];
  std: number[];
  scale: number;
  order: 'rgb' | 'bgr';
}

/**
 * Resolve a preset name or a custom normalization into per-channel constants.
 * Accepts any string so CLI values can be passed straight through (unknown names throw).
 */
export function channelNormalization(preset: Preset | string, channels: 1 | 3): ChannelNormalization {
  if (typeof preset === 'string') {
    if (!isPresetName(preset)) throw new InputError(`unknown preset '${preset}': use one of ${presetNames.join(', ')} (or a custom { mean, std, scale, order })`);
    const p = presets[preset];
    if (channels === 1) return { mean: [p.gray.mean], std: [p.gray.std], scale: p.scale, order: p.order };
    return { mean: expand(p.mean), std: expand(p.std), scale: p.scale, order: p.order };
  }
  const { mean, std, scale, order } = preset;
  const bad = (what: string) => new InputError(`custom normalization: ${what}`);
  if (!Array.isArray(mean) || (mean.length !== 1 && mean.length !== 3)) throw bad(`mean must have 1 or 3 entries, got ${JSON.stringify(mean)}`);
  if (!Array.isArray(std) || (std.length !== 1 && std.length !== 3)) throw bad(`std must have 1 or 3 entries, got ${JSON.stringify(std)}`);
  if (mean.some((m) => !Number.isFinite(m))) throw bad(`mean must be finite numbers, got ${JSON.stringify(mean)}`);
  if (std.some((s) => !Number.isFinite(s) || s === 0)) throw bad(`std must be finite and non-zero, got ${JSON.stringify(std)}`);
  if (!Number.isFinite(scale) || scale === 0) throw bad(`scale must be a finite non-zero number (1/255 for [0, 1] inputs), got ${scale}`);
  if (order !== 'rgb' && order !== 'bgr') throw bad(`order must be 'rgb' or 'bgr', got ${JSON.stringify(order)}`);
  if (channels === 1) return { mean: [mean[0]!], std: [std[0]!], scale, order };
  return { mean: expand(mean), std: expand(std), scale, order };
}

/** [v] -> [v, v, v]; three entries are kept. */
function expand(v: readonly number[]): number[] {
  return v.length === 1 ? [v[0]!, v[0]!, v[0]!] : [...v];
}

/** A short text for reports: the preset name, or the custom constants. */
export function describePreset(preset: Preset | string): string {
  if (typeof preset === 'string') return preset;
  return `custom (scale ${preset.scale}, mean [${preset.mean.join(', ')}], std [${preset.std.join(', ')}], ${preset.order.toUpperCase()})`;
}
