/**
 * The shared flow of the class activation map family (pytorch-grad-cam's BaseCAM idea: a
 * method only says how it turns activations A and gradients G of a layer into a map):
 * one compiled run gives A = f(x) at each target layer and G = dS/dA, then per row and
 * layer `map(A, G)` ([K, h, w] each) gives the raw [h, w] map.
 */
import type { Method, MethodInfo, RawResult } from '../types.ts';
import type { MethodContext } from '../context.ts';

export interface CamInput {
  /** Activations [K, h, w] of one row at one layer. */
  A: Float32Array;
  /** Gradients of the target score with respect to A, same layout. */
  G: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** Sum over channels of w_k A_k: the weighted combination every CAM ends with. */
export function weightedSum(A: Float32Array, weights: ArrayLike<number>, channels: number, area: number): Float32Array {
  const out = new Float32Array(area);
  for (let k = 0; k < channels; k++) {
    const w = weights[k]!;
    if (w === 0) continue;
    const at = k * area;
    for (let p = 0; p < area; p++) out[p] = out[p]! + w * A[at + p]!;
  }
  return out;
}

/** Per position, the sum over channels of f(index) (index = k * area + position). */
export function perPosition(channels: number, area: number, f: (index: number) => number): Float32Array {
  const out = new Float32Array(area);
  for (let k = 0; k < channels; k++) for (let p = 0; p < area; p++) out[p] = out[p]! + f(k * area + p);
  return out;
}

/** Per channel, the sum of its values over positions (perChannel of the values themselves, without a call per value). */
export function channelSums(values: Float32Array, channels: number, area: number): Float64Array {
  const out = new Float64Array(channels);
  for (let k = 0, at = 0; k < channels; k++) {
    let s = 0;
    for (let p = 0; p < area; p++, at++) s += values[at]!;
    out[k] = s;
  }
  return out;
}

/** Per channel, the sum over positions of f(index) (index = k * area + position). */
export function perChannel(channels: number, area: number, f: (index: number) => number): Float64Array {
  const out = new Float64Array(channels);
  for (let k = 0; k < channels; k++) {
    let s = 0;
    for (let p = 0; p < area; p++) s += f(k * area + p);
    out[k] = s;
  }
  return out;
}

/** Split a batch tensor of one layer into per-row CAM inputs. */
export function camInputs(A: Float32Array, G: Float32Array, dims: number[], row: number): CamInput {
  const [channels, height, width] = [dims[1]!, dims[2]!, dims.slice(3).reduce((a, b) => a * b, 1)];
  const n = channels * height * width;
  return { A: A.subarray(row * n, (row + 1) * n), G: G.subarray(row * n, (row + 1) * n), channels, height, width };
}

/**
 * A CAM result of one row and layer, with a warning when its map is blank after the
 * ReLU every CAM ends with (no positive evidence at that layer), so a user sees why
 * instead of an empty picture.
 */
export function camResult(method: string, row: number, layer: string, values: Float32Array, dims: number[], why?: string): RawResult {
  if (values.some((v) => v > 0)) return { row, layer, values, dims };
  const reason = why ?? 'no channel gives positive evidence for the target there; try another layer, or --counterfactual for the evidence against it';
  return { row, layer, values, dims, warnings: [`the ${method} map at layer '${layer}' is zero everywhere after ReLU: ${reason}`] };
}

/**
 * Run the layers' activations and gradients for every row, then map each. `weights`:
 * the target weights the gradients flow back from (default: the explained target's).
 */
export async function gradientCams(ctx: MethodContext, method: string, map: (input: CamInput) => Float32Array, weights = ctx.weights(rowsOf(ctx))): Promise<RawResult[]> {
  const layers = ctx.layers.map((l) => l.tensor);
  const res = await ctx.run({ wrt: layers, expose: layers }, ctx.rowImages(), weights);
  const out: RawResult[] = [];
  for (let row = 0; row < ctx.rows; row++) {
    for (const layer of layers) {
      const A = res.exposed[layer]!;
      const input = camInputs(A.data, res.gradients[layer]!.data, A.dims, row);
      out.push(camResult(method, row, layer, map(input), [input.height, input.width]));
    }
  }
  if (weights === 'argmax') ctx.targets = { ...ctx.targets, classes: ctx.classesFrom(res) };
  return out;
}

export const rowsOf = (ctx: MethodContext) => Array.from({ length: ctx.rows }, (_, i) => i);

/** A gradient-based CAM method from its map. */
export function camMethod(info: Omit<MethodInfo, 'family' | 'output' | 'usesLayers' | 'needsGradients'>, map: (input: CamInput) => Float32Array): Method<Record<string, never>> {
  return {
    ...info,
    family: 'cam',
    output: 'map',
    usesLayers: true,
    needsGradients: true,
    options: [],
    run: (ctx) => gradientCams(ctx, info.id, map),
  };
}
