/**
 * The insertion substrate of RISE (Petsiuk et al. 2018, eclique/RISE `evaluation.py`):
 * `blur(x) = conv2d(x, gkern(11, 5), padding=5)` per channel, where
 * `gkern(klen, nsig) = scipy.ndimage.gaussian_filter(delta_11x11, nsig)`. scipy filters with
 * mode 'reflect' (d c b a | a b c d | d c b a) and truncate 4.0 (radius 20), so at sigma 5
 * on an 11-tap support the kernel is nearly a box: 0.00774 at the corners, 0.00883 at the
 * centre, sum 1 (metrics.md §1a). The zero padding darkens borders, as in the original.
 */
import type { InputGeometry } from '../methods/context.ts';

/** The 1-D factor of gkern(klen, sigma): scipy's reflected Gaussian filter of a centred delta. */
export function gkern1d(klen = 11, sigma = 5): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const g = Float64Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-0.5 * ((i - radius) / sigma) ** 2));
  const total = g.reduce((a, b) => a + b, 0);
  const centre = Math.floor(klen / 2);
  // Reflect mode extends the signal with period 2*klen: index m reads m, or 2*klen-1-m.
  const reflect = (m: number) => {
    const r = ((m % (2 * klen)) + 2 * klen) % (2 * klen);
    return r < klen ? r : 2 * klen - 1 - r;
  };
  return Float64Array.from({ length: klen }, (_, i) => {
    let v = 0;
    for (let j = -radius; j <= radius; j++) if (reflect(i + j) === centre) v += g[j + radius]!;
    return v / total;
  });
}

/** The 2-D kernel (separable: the outer product of the 1-D factor). */
export function gkern(klen = 11, sigma = 5): Float64Array {
  const k = gkern1d(klen, sigma);
  return Float64Array.from({ length: klen * klen }, (_, i) => k[Math.floor(i / klen)]! * k[i % klen]!);
}

/** RISE's blur of one image in the model's layout (zero padding, per channel). */
export function riseBlur(image: Float32Array, g: InputGeometry, klen = 11, sigma = 5): Float32Array {
  const k = gkern1d(klen, sigma);
  const r = Math.floor(klen / 2);
  const { channels: C, height: H, width: W } = g;
  const at = g.layout === 'nchw' ? (c: number, y: number, x: number) => (c * H + y) * W + x : (c: number, y: number, x: number) => (y * W + x) * C + c;
  const out = new Float32Array(image.length);
  const rows = new Float64Array(H * W);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let v = 0;
        for (let d = -r; d <= r; d++) if (x + d >= 0 && x + d < W) v += k[d + r]! * image[at(c, y, x + d)]!;
        rows[y * W + x] = v;
      }
    }
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let v = 0;
        for (let d = -r; d <= r; d++) if (y + d >= 0 && y + d < H) v += k[d + r]! * rows[(y + d) * W + x]!;
        out[at(c, y, x)] = v;
      }
    }
  }
  return out;
}
