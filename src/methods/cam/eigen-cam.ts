/**
 * Eigen-CAM. Muhammad & Yeasin 2020, "Eigen-CAM: Class Activation Map using Principal
 * Components", eq. 5-6: the projection of the (position x channel) activation matrix,
 * centered per channel, on its first principal component. Class-independent. The sign of a
 * principal component is arbitrary; it is chosen so the map agrees (positive correlation)
 * with the mean activation, then ReLU as for every CAM. Its results claim no class.
 */
import type { Method } from '../types.ts';
import { activationCams } from './activation-cams.ts';

const ITERATIONS = 1000;

/** Top eigenvector of a symmetric positive semi-definite n x n matrix, by power iteration. */
function topEigenvector(M: Float64Array, n: number): Float64Array {
  let v = Float64Array.from({ length: n }, (_, k) => 1 + 0.01 * Math.sin(k + 1));
  for (let it = 0; it < ITERATIONS; it++) {
    const next = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += M[r * n + c]! * v[c]!;
      next[r] = s;
    }
    const norm = Math.sqrt(next.reduce((a, x) => a + x * x, 0)) || 1;
    let change = 0;
    for (let r = 0; r < n; r++) {
      next[r] = next[r]! / norm;
      change = Math.max(change, Math.abs(next[r]! - v[r]!));
    }
    v = next;
    if (change < 1e-12) break;
  }
  return v;
}

/**
 * X v for the top right singular vector v of X (rows x cols, row-major). Power iteration
 * runs on the smaller Gram matrix: X^T X (then X v directly), or X X^T, whose top
 * eigenvector u gives X v = sqrt(lambda) u.
 */
export function firstComponentProjection(X: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  if (cols <= rows) {
    const C = new Float64Array(cols * cols);
    for (let r = 0; r < rows; r++) for (let a = 0; a < cols; a++) for (let b = a; b < cols; b++) C[a * cols + b] = C[a * cols + b]! + X[r * cols + a]! * X[r * cols + b]!;
    for (let a = 0; a < cols; a++) for (let b = 0; b < a; b++) C[a * cols + b] = C[b * cols + a]!;
    const v = topEigenvector(C, cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r] = out[r]! + X[r * cols + c]! * v[c]!;
    return out;
  }
  const G = new Float64Array(rows * rows);
  for (let a = 0; a < rows; a++) {
    for (let b = a; b < rows; b++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += X[a * cols + c]! * X[b * cols + c]!;
      G[a * rows + b] = s;
      G[b * rows + a] = s;
    }
  }
  const u = topEigenvector(G, rows);
  let lambda = 0;
  for (let a = 0; a < rows; a++) for (let b = 0; b < rows; b++) lambda += u[a]! * G[a * rows + b]! * u[b]!;
  const s = Math.sqrt(Math.max(lambda, 0));
  for (let r = 0; r < rows; r++) out[r] = s * u[r]!;
  return out;
}

export const eigenCam: Method<Record<string, never>> = {
  id: 'eigen-cam',
  family: 'cam',
  output: 'map',
  usesLayers: true,
  needsGradients: false,
  relu: true,
  usesTarget: false,
  paper: 'Muhammad & Yeasin 2020, https://arxiv.org/abs/2008.00299 (eq. 5-6)',
  summary: 'First principal component of the layer activations: what the layer responds to most, for any class.',
  options: [],
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
