/** A box outline on an image (the explained detection or region, in the image's pixels). */
import type { RgbImage } from './image.ts';

/** A copy of `image` with the outline of [x0, y0, x1, y1) drawn `width` pixels wide, clipped to the image. */
export function drawBox(image: RgbImage, box: readonly [number, number, number, number], color: readonly [number, number, number] = [255, 255, 255], width = 2): RgbImage {
  const data = new Uint8ClampedArray(image.data);
  const [w, h] = [image.width, image.height];
  const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, Math.round(v)));
  const [x0, y0, x1, y1] = [clamp(box[0], w), clamp(box[1], h), clamp(box[2], w), clamp(box[3], h)];
  const paint = (x: number, y: number) => data.set(color, 3 * (y * w + x));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (x - x0 < width || x1 - 1 - x < width || y - y0 < width || y1 - 1 - y < width) paint(x, y);
    }
  }
  return { width: w, height: h, data };
}
