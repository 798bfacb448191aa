/**
 * RGB images <-> the model's input tensor: normalization (see presets.ts), channel order,
 * gray conversion and layout. Pure and browser-safe: resizing happens before (image-file.ts).
 */
import type { Tensor } from '../runtime/session.ts';
import { InputError, batchDims, splitDims, type InputLayout } from './layout.ts';
import { channelNormalization, type Preset } from './presets.ts';
import type { RgbImage } from '../viz/image.ts';

export type { RgbImage };

/** ITU-R BT.601 luma weights (what PIL's convert('L') and OpenCV's RGB2GRAY use). */
export const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * A batch of images (all already at the same size, the model's size when the layout
 * declares one) -> the normalized input tensor, [N, C, H, W] or [N, H, W, C].
 */
export function imageToTensor(images: readonly RgbImage[], layout: InputLayout, preset: Preset | string): Tensor {
  const first = images[0];
  if (!first) throw new InputError('no images to convert: pass at least one image');
  const { width, height } = first;
  images.forEach((img, i) => {
    if (img.width !== width || img.height !== height) {
      throw new InputError(`image ${i} is ${img.width}x${img.height} but image 0 is ${width}x${height}: resize all images to the model's size first`);
    }
    if (img.data.length !== width * height * 3) {
      throw new InputError(`image ${i} has ${img.data.length} bytes, not ${width}x${height}x3: pass 8-bit RGB data`);
    }
  });
  if ((layout.height !== undefined && layout.height !== height) || (layout.width !== undefined && layout.width !== width)) {
    throw new InputError(
      `the images are ${width}x${height} (WxH) but the model takes ${layout.width ?? '?'}x${layout.height ?? '?'}: resize them to the model's size first`,
    );
  }
  const C = layout.channels;
  const { mean, std, scale, order } = channelNormalization(preset, C);
  // value = (pixel * scale - mean) / std = pixel * a[c] + b[c]
  const a = mean.map((_, c) => scale / std[c]!);
  const b = mean.map((m, c) => -m / std[c]!);
  // Source RGB byte offset for each model channel.
  const src = order === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const plane = width * height;
  const data = new Float32Array(images.length * plane * C);
  const nchw = layout.layout === 'nchw';
  images.forEach((img, n) => {
    const base = n * plane * C;
    if (C === 1) grayPlane(img.data, data, base, plane, a[0]!, b[0]!);
    // One pass per channel: a strided read and a contiguous (NCHW) or strided (NHWC) write.
    else for (let c = 0; c < 3; c++) channelPass(img.data, src[c]!, data, nchw ? base + c * plane : base + c, nchw ? 1 : 3, plane, a[c]!, b[c]!);
  });
  return { data, dims: batchDims(layout, images.length, height, width) };
}

// The per-pixel loops, small and monomorphic so V8 compiles them tight (they run on every
// pixel of every input: one pass per channel is 3x faster than one pass writing three planes).
function channelPass(px: Uint8ClampedArray, from: number, out: Float32Array, at: number, step: number, plane: number, a: number, b: number): void {
  for (let p = 0, q = from, o = at; p < plane; p++, q += 3, o += step) out[o] = px[q]! * a + b;
}

function grayPlane(px: Uint8ClampedArray, out: Float32Array, at: number, plane: number, a: number, b: number): void {
  for (let p = 0, q = 0; p < plane; p++, q += 3) out[at + p] = (LUMA[0] * px[q]! + LUMA[1] * px[q + 1]! + LUMA[2] * px[q + 2]!) * a + b;
}

/**
 * The inverse of imageToTensor for every image in a batch: de-normalize, undo the channel
 * order, round and clamp to 0..255. Gray inputs become gray RGB images. A rank-3 tensor
 * ([C, H, W] or [H, W, C]) is taken as a batch of one.
 */
export function tensorToImages(tensor: Tensor, layout: InputLayout, preset: Preset | string): RgbImage[] {
  const dims = tensor.dims.length === 3 ? [1, ...tensor.dims] : tensor.dims;
  if (dims.length !== 4) throw new InputError(`a tensor of shape [${tensor.dims.join(', ')}] is not an image batch: expected rank 4 (or 3 for one image)`);
  const { batch, channels, height, width } = splitDims(layout, dims);
  if (channels !== layout.channels) {
    throw new InputError(`tensor shape [${tensor.dims.join(', ')}] has ${channels} channels in ${layout.layout.toUpperCase()} layout, expected ${layout.channels}`);
  }
  const plane = width * height;
  if (tensor.data.length !== batch * plane * channels) {
    throw new InputError(`tensor shape [${tensor.dims.join(', ')}] needs ${batch * plane * channels} values, it has ${tensor.data.length}`);
  }
  const C = layout.channels;
  const { mean, std, scale, order } = channelNormalization(preset, C);
  // pixel = (value * std + mean) / scale
  const a = mean.map((_, c) => std[c]! / scale);
  const b = mean.map((m) => m / scale);
  // Destination RGB byte offset for each model channel.
  const dst = order === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const nchw = layout.layout === 'nchw';
  const out: RgbImage[] = [];
  for (let n = 0; n < batch; n++) {
    const base = n * plane * C;
    const data = new Uint8ClampedArray(plane * 3); // rounds half to even and clamps on store
    for (let p = 0; p < plane; p++) {
      if (C === 1) {
        const v = tensor.data[base + p]! * a[0]! + b[0]!;
        data[3 * p] = data[3 * p + 1] = data[3 * p + 2] = v;
        continue;
      }
      for (let c = 0; c < 3; c++) {
        const v = tensor.data[nchw ? base + c * plane + p : base + 3 * p + c]!;
        data[3 * p + dst[c]!] = v * a[c]! + b[c]!;
      }
    }
    out.push({ width, height, data });
  }
  return out;
}

/** One image of a batch (default the first) back to RGB; see tensorToImages. */
export function tensorToImage(tensor: Tensor, layout: InputLayout, preset: Preset | string, index = 0): RgbImage {
  const images = tensorToImages(tensor, layout, preset);
  const img = images[index];
  if (!img) throw new InputError(`image ${index} is out of range: the batch has ${images.length}`);
  return img;
}
