/**
 * Sanity checks by randomization (Adebayo et al. 2018, "Sanity Checks for Saliency Maps",
 * NeurIPS, arXiv:1810.03292, section 4 (model parameters) and 5 (data)).
 * Model-parameter randomization rewrites the initializers of the ONNX model, layer by layer
 * from the output down (top-down): 'cascading' randomizes layers 1..k at stage k,
 * 'independent' only layer k of the trained model. A layer is a Conv, ConvTranspose, Gemm or
 * MatMul with constant weights, or a BatchNormalization (Quantus' `MPRT` randomizes every
 * module with `reset_parameters`); it gets PyTorch's default initialization, as in Quantus:
 * weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BatchNormalization scale 1, bias 0,
 * mean 0, variance 1. At each stage the maps for the same classes (Quantus; 'predicted'
 * explains the randomized model's own arg max, as Adebayo et al.) are compared with the
 * trained model's: Spearman rank correlation of |map| (Quantus' default, abs=True) and SSIM of
 * the min-max normalized maps (similarity.ts). A method passes when similarity falls as
 * layers are randomized. Data randomization compares the maps of the trained model with
 * those of a model trained on permuted labels (which the user supplies: it needs training).
 */
import { OptionError } from '../errors.ts';
import { attrInt } from '../model/attributes.ts';
import { cloneModel } from '../model/model.ts';
import type { ModelProto, TensorProto } from '../model/onnx-proto.ts';
import { DataType, makeTensorProto, readTensorProto } from '../model/tensor-data.ts';
import { Explainer, geometryOf } from '../methods/explainer.ts';
import { Rng } from '../runtime/rng.ts';
import type { Tensor } from '../runtime/session.ts';
import { minMaxNormalize } from '../viz/normalize.ts';
import { predictedClasses } from './common.ts';
import { spearman, ssim } from './similarity.ts';

export interface RandomizableLayer {
  /** The node's name (or its output's). */
  name: string;
  op: string;
  /** Initializers rewritten when the layer is randomized, with their new-value rule. */
  tensors: { name: string; init: 'uniform' | 'one' | 'zero'; fanIn: number }[];
}

/** [H, W] maps of `images` for `classes` by one explainer (the method under test). */
export type MapFn = (explainer: Explainer, images: Tensor, classes: readonly number[]) => Promise<Float32Array[]>;

const dimsOf = (t: TensorProto) => (t.dims ?? []).map(Number);
const product = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

/** Layers with parameters, in graph (bottom-up) order. */
export function randomizableLayers(model: ModelProto): RandomizableLayer[] {
  const graph = model.graph!;
  const init = new Map((graph.initializer ?? []).filter((t) => t.dataType === DataType.FLOAT).map((t) => [t.name ?? '', t]));
  const layers: RandomizableLayer[] = [];
  for (const node of graph.node ?? []) {
    const op = node.opType ?? '';
    const input = node.input ?? [];
    const weight = input[1] !== undefined ? init.get(input[1]) : undefined;
    let tensors: RandomizableLayer['tensors'] = [];
    if (op === 'BatchNormalization') {
      tensors = input.slice(1, 5).flatMap((n, k) => (init.has(n) ? [{ name: n, init: (k === 0 || k === 3 ? 'one' : 'zero') as 'one' | 'zero', fanIn: 1 }] : []));
    } else if (weight && ['Conv', 'ConvTranspose', 'Gemm', 'MatMul'].includes(op)) {
      const d = dimsOf(weight);
      const fanIn = op === 'Gemm' ? (attrInt(node, 'transB', 0) ? d[1]! : d[0]!) : op === 'MatMul' ? d[0]! : product(d.slice(1));
      tensors = [{ name: input[1]!, init: 'uniform', fanIn }];
      if (op !== 'MatMul' && input[2] && init.has(input[2])) tensors.push({ name: input[2], init: 'uniform', fanIn });
    }
    if (tensors.length > 0) layers.push({ name: node.name || node.output?.[0] || op, op, tensors });
  }
  return layers;
}

/** A copy of `model` with the given layers re-initialized (seeded per tensor name). */
export function randomizeLayers(model: ModelProto, layers: readonly RandomizableLayer[], seed = 0): ModelProto {
  const copy = cloneModel(model);
  const byName = new Map(layers.flatMap((l) => l.tensors.map((t) => [t.name, t] as const)));
  copy.graph!.initializer = (copy.graph!.initializer ?? []).map((t) => {
    const rule = byName.get(t.name ?? '');
    if (!rule) return t;
    const value = readTensorProto(t);
    const n = value.data.length;
    let h = seed >>> 0;
    for (const ch of rule.name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
    const bound = 1 / Math.sqrt(Math.max(1, rule.fanIn));
    const data = rule.init === 'uniform' ? new Rng(h >>> 0).uniforms(n, -bound, bound) : new Float32Array(n).fill(rule.init === 'one' ? 1 : 0);
    return makeTensorProto(t.name ?? '', { dataType: DataType.FLOAT, dims: value.dims, data });
  });
  return copy;
}

/** Spearman of |maps| and SSIM of min-max normalized maps, per image. */
export function compareMaps(a: readonly Float32Array[], b: readonly Float32Array[], height: number, width: number): { spearman: number[]; ssim: number[] } {
  return {
    spearman: a.map((m, i) => spearman(m.map(Math.abs), b[i]!.map(Math.abs))),
    ssim: a.map((m, i) => ssim(minMaxNormalize(m), minMaxNormalize(b[i]!), height, width)),
  };
}

export interface RandomizationOptions {
  /** Default 'cascading'. */
  order?: 'cascading' | 'independent';
  /** Explain the given classes ('original', default) or the randomized model's arg max. */
  target?: 'original' | 'predicted';
  /** Randomize only the top `layers` layers (default all). */
  layers?: number;
  seed?: number;
}

export interface RandomizationResult {
  /** Stage k randomized layer `layers[k]` (top-down), with all above it when cascading. */
  layers: string[];
  /** [stage][image]. */
  spearman: number[][];
  ssim: number[][];
}

export async function modelRandomization(
  input: { explainer: Explainer; images: Tensor; classes: readonly number[]; maps: MapFn; trained?: readonly Float32Array[] },
  options: RandomizationOptions = {},
): Promise<RandomizationResult> {
  const model = input.explainer.engine.model;
  const all = randomizableLayers(model).reverse();
  if (all.length === 0) throw new OptionError('the model has no layers with constant weights to randomize');
  const count = options.layers ?? all.length;
  if (!Number.isInteger(count) || count < 1) throw new OptionError(`randomization layers must be an integer >= 1, not ${count}`);
  const layers = all.slice(0, count);
  const { height: h, width: w } = geometryOf(input.images.dims);
  const trained = input.trained ?? (await input.maps(input.explainer, input.images, input.classes));
  const result: RandomizationResult = { layers: layers.map((l) => l.name), spearman: [], ssim: [] };
  for (let k = 0; k < layers.length; k++) {
    const randomized = randomizeLayers(model, options.order === 'independent' ? [layers[k]!] : layers.slice(0, k + 1), options.seed ?? 0);
    const explainer = await Explainer.create(randomized);
    try {
      const classes = options.target === 'predicted' ? await predictedClasses(explainer, input.images) : input.classes;
      const similarity = compareMaps(trained, await input.maps(explainer, input.images, classes), h, w);
      result.spearman.push(similarity.spearman);
      result.ssim.push(similarity.ssim);
    } finally {
      await explainer.release();
    }
  }
  return result;
}

/** Data randomization: similarity of the trained model's maps to a random-label model's. */
export async function dataRandomization(input: { explainer: Explainer; randomLabel: Explainer; images: Tensor; classes: readonly number[]; maps: MapFn }): Promise<{ spearman: number[]; ssim: number[] }> {
  const { height: h, width: w } = geometryOf(input.images.dims);
  const a = await input.maps(input.explainer, input.images, input.classes);
  const b = await input.maps(input.randomLabel, input.images, input.classes);
  return compareMaps(a, b, h, w);
}
