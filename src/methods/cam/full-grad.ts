/**
 * FullGrad. Srinivas & Fleuret 2019, "Full-Gradient Representation for Neural Network
 * Visualization", section 4 (FullGrad saliency): a ReLU network's score is exactly
 * grad_x f . x + sum over layers of grad_b f . b (full-gradient completeness), and the map
 * aggregates both parts,
 *   S(x) = psi(|grad_x f (elementwise) x|) + sum_layers sum_k psi(|b_k grad_{z_k} f|),
 * psi = min-max scaling of each map, then bilinear upsampling to the input. z is a layer's
 * output: for a Conv, dS/db_k = sum_ij dS/dz_kij, and b_k dS/dz_kij is that bias gradient
 * spread over the positions, so the compiled gradients w.r.t. the layers' outputs give it.
 *
 * As pytorch-grad-cam's FullGrad: the layers are every 2-D Conv with a bias and every
 * BatchNormalization (bias beta - mean gamma / sqrt(var + eps)), the input term is scaled
 * per input channel, each channel k of a layer is scaled on its own before the channels
 * are summed, and the scaling is (v - min) / (max - min + 1e-7). Upsampling is linear, so
 * one layer's channels are summed at the layer's resolution and upsampled once. Where
 * the export already folded a BatchNormalization into the Conv before it, the folded
 * Conv's bias is the one used. No ReLU: every term is non-negative.
 */
import { attrFloat, attrInt } from '../../model/attributes.ts';
import type { GraphView } from '../../model/graph-view.ts';
import { resizeBilinear } from '../../viz/resize.ts';
import type { MethodContext } from '../context.ts';
import type { Method, RawResult } from '../types.ts';
import { rowsOf } from './base.ts';

/** A layer output z with a per-channel bias: z_k = (linear part)_k + b_k. */
export interface BiasLayer {
  tensor: string;
  bias: Float64Array;
}

const floats = (view: GraphView, name: string | undefined): Float64Array | undefined => {
  const v = name ? view.constant(name) : undefined;
  return v ? Float64Array.from(v.data as ArrayLike<number>, Number) : undefined;
};

/** Every 2-D Conv with a constant bias and every inference BatchNormalization with constant statistics, in graph order. */
export function biasLayers(view: GraphView, shapes: ReadonlyMap<string, number[]>): BiasLayer[] {
  const out: BiasLayer[] = [];
  for (const node of view.nodes) {
    const tensor = node.output[0];
    if (!tensor || shapes.get(tensor)?.length !== 4) continue;
    if (node.opType === 'Conv') {
      const bias = floats(view, node.input[2]);
      if (bias) out.push({ tensor, bias });
    } else if (node.opType === 'BatchNormalization' && attrInt(node, 'training_mode', 0) === 0) {
      const [scale, beta, mean, variance] = node.input.slice(1, 5).map((t) => floats(view, t));
      if (!scale || !beta || !mean || !variance) continue;
      const eps = attrFloat(node, 'epsilon', 1e-5);
      out.push({ tensor, bias: beta.map((b, k) => b - (mean[k]! * scale[k]!) / Math.sqrt(variance[k]! + eps)) });
    }
  }
  return out;
}

/**
 * Adds pytorch-grad-cam's scale_cam_image of the map |f * v| (v = src[at .. at + n)) into
 * `into`: (m - min) / (max - min + 1e-7). min and max of |f v| are |f| times those of |v|,
 * so one pass finds them and a second adds the scaled map (no copy of the map).
 */
function addScaledAbs(into: Float64Array, src: ArrayLike<number>, at: number, n: number, f: number): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (let p = 0; p < n; p++) {
    const a = Math.abs(src[at + p]!);
    if (a < lo) lo = a;
    if (a > hi) hi = a;
  }
  const scale = Math.abs(f);
  if (!(scale * (hi - lo) > 0)) return; // a constant map scales to zero
  const k = scale / (scale * (hi - lo) + 1e-7);
  for (let p = 0; p < n; p++) into[p] = into[p]! + (Math.abs(src[at + p]!) - lo) * k;
}

export const fullGrad: Method<Record<string, never>> = {
  id: 'full-grad',
  family: 'cam',
  output: 'map',
  usesLayers: false,
  needsGradients: true,
  relu: false,
  paper: 'Srinivas & Fleuret 2019, https://arxiv.org/abs/1905.00780 (section 4)',
  summary: 'Input gradient times input plus every conv layer\'s bias gradients: the whole score, at all resolutions.',
  options: [],
  run: async (ctx: MethodContext): Promise<RawResult[]> => {
    const { view, shapes } = ctx.specialized;
    const input = view.inputs[0]!.name;
    const layers = biasLayers(view, shapes);
    const images = ctx.rowImages();
    const res = await ctx.run({ wrt: [input, ...layers.map((l) => l.tensor)] }, images, ctx.weights(rowsOf(ctx)));
    ctx.targets = { ...ctx.targets, classes: ctx.classesFrom(res) };
    const { channels, height: H, width: W } = ctx.geometry;
    const area = H * W;
    return rowsOf(ctx).map((row) => {
      const map = new Float64Array(area);
      const x = ctx.toCHW(images, row);
      const g = ctx.toCHW(res.gradients[input]!, row);
      const xg = x.map((v, i) => v * g[i]!);
      for (let c = 0; c < channels; c++) addScaledAbs(map, xg, c * area, area, 1);
      for (const { tensor, bias } of layers) {
        const { data, dims } = res.gradients[tensor]!;
        const [K, h, w] = [dims[1]!, dims[2]!, dims[3]!];
        const G = data.subarray(row * K * h * w, (row + 1) * K * h * w);
        const sum = new Float64Array(h * w);
        for (let k = 0; k < K; k++) addScaledAbs(sum, G, k * h * w, h * w, bias[k]!);
        const up = h === H && w === W ? sum : resizeBilinear(Float32Array.from(sum), h, w, H, W);
        for (let p = 0; p < area; p++) map[p] = map[p]! + up[p]!;
      }
      return { row, values: Float32Array.from(map), dims: [H, W] };
    });
  },
};
