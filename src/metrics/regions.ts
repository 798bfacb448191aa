/**
 * Ground-truth regions for the localization metrics: boxes in model-input pixels
 * [x0, y0, x1, y1] with x1, y1 exclusive (numpy slicing; a VOC box with 1-based inclusive
 * corners (a, b, c, d) is [a - 1, b - 1, c, d]), or a binary [H, W] mask. Several boxes of an
 * image form their union (TorchRay's pointing game on VOC).
 */
import { OptionError } from '../errors.ts';

export type Box = readonly [x0: number, y0: number, x1: number, y1: number];

/** The region of one image: its boxes, or a mask (1 inside). */
export type Region = { boxes: readonly Box[] } | { mask: Uint8Array };

export function checkBox(b: Box, height: number, width: number): void {
  const [x0, y0, x1, y1] = b;
  if (![x0, y0, x1, y1].every(Number.isFinite) || x0 >= x1 || y0 >= y1 || x1 <= 0 || y1 <= 0 || x0 >= width || y0 >= height) {
    throw new OptionError(`box [${b.join(', ')}] is empty or outside the ${height}x${width} input: give [x0, y0, x1, y1] in input pixels with x0 < x1, y0 < y1`);
  }
}

/** The region as a [H, W] mask. */
export function regionMask(region: Region, height: number, width: number): Uint8Array {
  if ('mask' in region) {
    if (region.mask.length !== height * width) throw new OptionError(`a region mask has ${region.mask.length} values, not ${height}x${width}`);
    return region.mask;
  }
  const mask = new Uint8Array(height * width);
  for (const b of region.boxes) {
    checkBox(b, height, width);
    const [x0, y0, x1, y1] = [Math.max(0, Math.round(b[0])), Math.max(0, Math.round(b[1])), Math.min(width, Math.round(b[2])), Math.min(height, Math.round(b[3]))];
    for (let y = y0; y < y1; y++) mask.fill(1, y * width + x0, y * width + x1);
  }
  return mask;
}

export function checkRegions(regions: readonly Region[], images: number): void {
  if (regions.length !== images) throw new OptionError(`${regions.length} regions for ${images} images: give the boxes or mask of every image`);
}
