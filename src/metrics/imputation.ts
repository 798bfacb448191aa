/**
 * Noisy linear imputation (Rong et al. 2022, "A Consistent and Efficient Evaluation Strategy
 * for Attribution Methods", ICML, arXiv:2202.00449, section 4.2, eq. 4; reference:
 * tleemann/road_evaluation `road/imputations.py` NoisyLinearImputer). Each removed pixel,
 * per channel, becomes the weighted mean of its in-image 8-neighbours (weights 1/6 for the
 * 4-neighbours, 1/12 for the diagonals), removed neighbours being unknowns too:
 *   w_i x_i - sum_{j removed} w_ij x_j = sum_{k known} w_ik v_k,   w_i = sum of in-image weights,
 * then noise * N(0, 1) is added to the imputed values only. The system is symmetric positive
 * definite when some pixel is kept, so conjugate gradients with a Jacobi preconditioner
 * solve it (the reference uses scipy's direct spsolve; both give the same solution).
 */
import type { InputGeometry } from '../methods/context.ts';
import type { Rng } from '../runtime/rng.ts';

const NEIGHBOURS: readonly [number, number, number][] = [
  [-1, 0, 1 / 6], [1, 0, 1 / 6], [0, -1, 1 / 6], [0, 1, 1 / 6],
  [-1, -1, 1 / 12], [-1, 1, 1 / 12], [1, -1, 1 / 12], [1, 1, 1 / 12],
];

/**
 * Impute the pixels where `removed[p]` is set, in place, in one image of the model's layout;
 * `noise` is the standard deviation of the Gaussian noise added to imputed values.
 */
export function noisyLinearImpute(image: Float32Array, removed: Uint8Array, g: InputGeometry, noise: number, rng: Rng, tolerance = 1e-7): void {
  const { height: H, width: W, channels: C } = g;
  const unknown = new Int32Array(H * W).fill(-1);
  const pixels: number[] = [];
  for (let p = 0; p < H * W; p++) if (removed[p]) unknown[p] = pixels.push(p) - 1;
  const n = pixels.length;
  if (n === 0) return;
  if (n === H * W) throw new RangeError('noisyLinearImpute: every pixel is removed; nothing to impute from');
  const at = g.layout === 'nchw' ? (c: number, p: number) => c * H * W + p : (c: number, p: number) => p * C + c;
  // Per unknown: its diagonal weight, its unknown neighbours (index, weight), and the known ones.
  const diag = new Float64Array(n);
  const links: [number, number][][] = [];
  const known: [number, number][][] = [];
  pixels.forEach((p, i) => {
    const y = Math.floor(p / W);
    const x = p % W;
    const l: [number, number][] = [];
    const k: [number, number][] = [];
    for (const [dy, dx, w] of NEIGHBOURS) {
      const yy = y + dy;
      const xx = x + dx;
      if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
      diag[i] = diag[i]! + w;
      const q = yy * W + xx;
      if (unknown[q]! >= 0) l.push([unknown[q]!, w]);
      else k.push([q, w]);
    }
    links.push(l);
    known.push(k);
  });
  const apply = (v: Float64Array, out: Float64Array) => {
    for (let i = 0; i < n; i++) {
      let s = diag[i]! * v[i]!;
      for (const [j, w] of links[i]!) s -= w * v[j]!;
      out[i] = s;
    }
  };
  const x = new Float64Array(n);
  const r = new Float64Array(n);
  const z = new Float64Array(n);
  const d = new Float64Array(n);
  const q = new Float64Array(n);
  for (let c = 0; c < C; c++) {
    // b: known neighbours' values; start from the mean of the known neighbours (or 0).
    let bNorm = 0;
    for (let i = 0; i < n; i++) {
      let b = 0;
      for (const [p, w] of known[i]!) b += w * image[at(c, p)]!;
      r[i] = b;
      x[i] = 0;
      bNorm += b * b;
    }
    bNorm = Math.sqrt(bNorm);
    if (bNorm > 0) {
      for (let i = 0; i < n; i++) d[i] = z[i] = r[i]! / diag[i]!;
      let rz = 0;
      for (let i = 0; i < n; i++) rz += r[i]! * z[i]!;
      for (let it = 0; it < 10 * n + 100; it++) {
        apply(d, q);
        let dq = 0;
        for (let i = 0; i < n; i++) dq += d[i]! * q[i]!;
        const alpha = rz / dq;
        let rr = 0;
        for (let i = 0; i < n; i++) {
          x[i] = x[i]! + alpha * d[i]!;
          r[i] = r[i]! - alpha * q[i]!;
          rr += r[i]! * r[i]!;
        }
        if (Math.sqrt(rr) <= tolerance * bNorm) break;
        let rzNew = 0;
        for (let i = 0; i < n; i++) rzNew += r[i]! * (z[i] = r[i]! / diag[i]!);
        const beta = rzNew / rz;
        rz = rzNew;
        for (let i = 0; i < n; i++) d[i] = z[i]! + beta * d[i]!;
      }
    }
    for (let i = 0; i < n; i++) image[at(c, pixels[i]!)] = x[i]! + (noise > 0 ? noise * rng.normal() : 0);
  }
}
