/**
 * Eigen-CAM. Muhammad & Yeasin 2020, "Eigen-CAM: Class Activation Map using Principal
 * Components", eq. 5-6: the projection of the (position x channel) activation matrix,
 * centered per channel, on its first principal component. Class-independent. The sign of a
 * principal component is arbitrary; it is chosen so the map agrees (positive correlation)
 * with the mean activation, then ReLU as for every CAM.
 */
import type { Method } from '../types.ts';
import { activationCams } from './activation-cams.ts';

const ITERATIONS = 500;

/** X v for the top right singular vector v of X (hw x K, row-major), by power iteration. */
export function firstComponentProjection(X: Float64Array, rows: number, cols: number): Float64Array {
  let v = new Float64Array(cols).map((_, k) => 1 + 0.01 * Math.sin(k + 1));
  const Xv = new Float64Array(rows);
  for (let it = 0; it < ITERATIONS; it++) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += X[r * cols + c]! * v[c]!;
      Xv[r] = s;
    }
    const next = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const xr = Xv[r]!;
      for (let c = 0; c < cols; c++) next[c] = next[c]! + X[r * cols + c]! * xr;
    }
    const norm = Math.hypot(...next) || 1;
    let change = 0;
    for (let c = 0; c < cols; c++) {
      const n = next[c]! / norm;
      change = Math.max(change, Math.abs(n - v[c]!));
      next[c] = n;
    }
    v = next;
    if (change < 1e-12) break;
  }
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += X[r * cols + c]! * v[c]!;
    Xv[r] = s;
  }
  return Xv;
}

export const eigenCam: Method<Record<string, never>> = {
  id: 'eigen-cam',
  family: 'cam',
  output: 'map',
  usesLayers: true,
  needsGradients: false,
  relu: true,
  paper: 'Muhammad & Yeasin 2020, https://arxiv.org/abs/2008.00299 (eq. 5-6)',
  summary: 'First principal component of the layer activations: what the layer responds to most, for any class.',
  defaults: {},
  run: (ctx) =>
    activationCams(ctx, ({ A, channels, height, width }) => {
      const area = height * width;
      // X: positions x channels, each channel centered over positions.
      const X = new Float64Array(area * channels);
      const meanMap = new Float64Array(area);
      for (let k = 0; k < channels; k++) {
        let mean = 0;
        for (let p = 0; p < area; p++) mean += A[k * area + p]!;
        mean /= area;
        for (let p = 0; p < area; p++) {
          X[p * channels + k] = A[k * area + p]! - mean;
          meanMap[p] = meanMap[p]! + A[k * area + p]! / channels;
        }
      }
      const projection = firstComponentProjection(X, area, channels);
      let agreement = 0;
      const meanOfMean = meanMap.reduce((a, b) => a + b, 0) / area;
      for (let p = 0; p < area; p++) agreement += projection[p]! * (meanMap[p]! - meanOfMean);
      const sign = agreement < 0 ? -1 : 1;
      return Float32Array.from(projection, (v) => sign * v);
    }),
};
