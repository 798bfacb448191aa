/**
 * Where the channels sit in a model's image input: NCHW (PyTorch, Caffe, most ONNX exports)
 * or NHWC (TensorFlow/Keras exports), with 1 (gray) or 3 (color) channels.
 * Pure and browser-safe.
 */
import { ConvlensError } from '../errors.ts';

/** Any problem with the user's inputs (files, shapes, presets); the message names the fix. */
export class InputError extends ConvlensError {
  override name = 'InputError';
}

export interface InputLayout {
  layout: 'nchw' | 'nhwc';
  channels: 1 | 3;
  /** Declared spatial size; absent when the model leaves it symbolic. */
  height?: number;
  width?: number;
}

/** `[1, 3, ?, ?]` */
export function showDims(dims: readonly (number | string | undefined)[]): string {
  return `[${dims.map((d) => d ?? '?').join(', ')}]`;
}

const isChannelCount = (d: number | undefined): d is 1 | 3 => d === 1 || d === 3;

/**
 * The layout of a rank-4 image input from its declared dims (undefined = symbolic).
 * NCHW when dims[1] is 1 or 3, else NHWC when dims[3] is 1 or 3; NCHW wins when both
 * could be channels (e.g. [N, 3, H, 3]).
 */
export function detectLayout(dims: readonly (number | undefined)[], inputName = 'input'): InputLayout {
  if (dims.length === 4) {
    const c1 = dims[1];
    const c3 = dims[3];
    if (isChannelCount(c1)) return withSize({ layout: 'nchw', channels: c1 }, dims[2], dims[3]);
    if (isChannelCount(c3)) return withSize({ layout: 'nhwc', channels: c3 }, dims[1], dims[2]);
  }
  throw new InputError(
    `input '${inputName}' has shape ${showDims(dims)}: convlens expects an image batch NCHW or NHWC with 1 or 3 channels`,
  );
}

function withSize(l: InputLayout, height: number | undefined, width: number | undefined): InputLayout {
  if (height !== undefined && height > 0) l.height = height;
  if (width !== undefined && width > 0) l.width = width;
  return l;
}

/** The dims of a batch of `batch` images of height x width in this layout. */
export function batchDims(layout: InputLayout, batch: number, height: number, width: number): number[] {
  return layout.layout === 'nchw' ? [batch, layout.channels, height, width] : [batch, height, width, layout.channels];
}

/** Height, width and channel count of a rank-4 tensor in this layout. */
export function splitDims(layout: InputLayout, dims: readonly number[]): { batch: number; channels: number; height: number; width: number } {
  const [n = 0, a = 0, b = 0, c = 0] = dims;
  return layout.layout === 'nchw' ? { batch: n, channels: a, height: b, width: c } : { batch: n, channels: c, height: a, width: b };
}
