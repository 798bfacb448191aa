/**
 * The image conventions shared by feature visualization: images are float64 arrays in NCHW
 * order (whatever the model's layout; optimize.ts converts at the network boundary), and
 * every image operation that the gradient flows through is a linear map given together
 * with its exact adjoint (<A x, y> = <x, A^T y>), so that backpropagating through it is
 * one call.
 */
import type { Tensor } from '../runtime/session.ts';
import type { InputLayout } from '../input/layout.ts';

/** [batch, channels, height, width] */
export type ImageShape = readonly [n: number, c: number, h: number, w: number];

export interface LinearMap {
  forward(x: Float64Array): Float64Array;
  /** The transpose: the gradient w.r.t. x from the gradient w.r.t. forward(x). */
  adjoint(y: Float64Array): Float64Array;
}

export const imageSize = (shape: ImageShape): number => shape[0] * shape[1] * shape[2] * shape[3];

/** The composition maps[last] o ... o maps[0]; its adjoint runs the adjoints in reverse. */
export function compose(maps: readonly LinearMap[]): LinearMap {
  return {
    forward: (x) => maps.reduce((v, m) => m.forward(v), x),
    adjoint: (y) => maps.reduceRight((v, m) => m.adjoint(v), y),
  };
}

/** The dims of an NCHW shape in a model layout. */
export function layoutDims(shape: ImageShape, layout: InputLayout['layout']): number[] {
  const [n, c, h, w] = shape;
  return layout === 'nchw' ? [n, c, h, w] : [n, h, w, c];
}

/** An NCHW float64 image as a float32 tensor in the model's layout. */
export function toModelTensor(x: Float64Array, shape: ImageShape, layout: InputLayout['layout']): Tensor {
  const dims = layoutDims(shape, layout);
  if (layout === 'nchw') return { data: Float32Array.from(x), dims };
  const [n, c, h, w] = shape;
  const data = new Float32Array(x.length);
  const area = h * w;
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      const src = (b * c + k) * area;
      for (let p = 0; p < area; p++) data[(b * area + p) * c + k] = x[src + p]!;
    }
  }
  return { data, dims };
}

/** A tensor in the model's layout as an NCHW float64 image (the inverse of toModelTensor). */
export function fromModelTensor(t: ArrayLike<number>, shape: ImageShape, layout: InputLayout['layout']): Float64Array {
  if (layout === 'nchw') return Float64Array.from(t);
  const [n, c, h, w] = shape;
  const x = new Float64Array(imageSize(shape));
  const area = h * w;
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      const dst = (b * c + k) * area;
      for (let p = 0; p < area; p++) x[dst + p] = t[(b * area + p) * c + k]!;
    }
  }
  return x;
}
