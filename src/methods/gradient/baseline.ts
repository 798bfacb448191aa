/**
 * A blurred copy of an image as a perturbation baseline (Sundararajan et al. 2017 use a
 * black image; Fong & Vedaldi 2017 and Captum's tutorials a blurred one): a separable
 * Gaussian with sigma = max(H, W) / 20 over each channel, edges clamped.
 */
import { gaussianKernel } from '../../viz/gaussian.ts';
import type { InputGeometry } from '../context.ts';

/** Blur one image in the model's layout (no batch dim). */
export function gaussianBlur(x: Float32Array, g: InputGeometry, sigma = Math.max(g.height, g.width) / 20): Float32Array {
  const k = gaussianKernel(sigma);
  const radius = (k.length - 1) / 2;
  const { channels: c, height: h, width: w } = g;
  const at = g.layout === 'nchw' ? (ch: number, y: number, xx: number) => (ch * h + y) * w + xx : (ch: number, y: number, xx: number) => (y * w + xx) * c + ch;
  const tmp = new Float32Array(x.length);
  const out = new Float32Array(x.length);
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        let s = 0;
        for (let j = -radius; j <= radius; j++) s += k[j + radius]! * x[at(ch, y, clamp(xx + j, w))]!;
        tmp[at(ch, y, xx)] = s;
      }
    }
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        let s = 0;
        for (let j = -radius; j <= radius; j++) s += k[j + radius]! * tmp[at(ch, clamp(y + j, h), xx)]!;
        out[at(ch, y, xx)] = s;
      }
    }
  }
  return out;
}
