/**
 * Feature visualization by gradient ascent on the input (Erhan et al. 2009; Simonyan et al.
 * 2014, section 2; Olah et al. 2017, "Feature Visualization", Distill). Each step:
 *
 *   image = P(params);  x = T(image) for a fresh random transform T
 *   g     = d objective / d x           (ONE run of a compiled input-gradient graph per
 *                                        objective tensor; never weight gradients)
 *   g_img = T^T g - sum_r d penalty_r / d image
 *   params += optimizer(P^T g_img)      (Adam: Kingma & Ba 2015, Algorithm 1)
 *   every k steps: blur
 *
 * The objective value of a step is read from the same run (the target tensor is exposed),
 * at the transformed image, before that step's update.
 *
 * Presets: `classModel` (Simonyan et al. 2014, section 2: arg max_I S_c(I) - lambda ||I||^2
 * on the pre-softmax score, from the zero image) and `dream` (DeepDream: Mordvintsev, Olah
 * and Tyka 2015, "Inceptionism"; the steps of Google's deepdream notebook: maximize
 * 0.5 ||A||^2 of a layer from a photo, normalized gradient steps under a wrapping jitter,
 * over octaves).
 *
 * Images are in the model's input space (whatever normalization it expects); convert one
 * for display with `tensorToImage(result.image, layout, preset)`.
 */
import type { GradientEngine } from '../autodiff/engine.ts';
import { OptionError } from '../errors.ts';
import { detectLayout, showDims } from '../input/layout.ts';
import type { ValueInfoProto } from '../model/onnx-proto.ts';
import { Rng } from '../runtime/rng.ts';
import type { Tensor } from '../runtime/session.ts';
import { declaredDims, type Specialized } from '../runtime/specialize.ts';
import { resolveLayers, type LayerRef } from '../targets/layers.ts';
import { fromModelTensor, imageSize, layoutDims, toModelTensor, type ImageShape } from './image.ts';
import { classLogit, objectiveValue, resolveObjective, type Objective, type ObjectivePart } from './objectives.ts';
import { fourier, pixels, type Parameterization } from './parameterizations.ts';
import { l2, type Penalty, type PeriodicBlur, type Regularizer } from './regularizers.ts';
import { jitter, resize, warpMap, type Transform } from './transforms.ts';

export type OptimizerName = 'adam' | 'sgd';

/** One ascent step: params += update(gradient). */
export interface Optimizer {
  step(params: Float64Array, gradient: Float64Array): void;
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1), ascending. With bias correction the first update is
 * lr * g / (|g| + eps), i.e. of size lr in every coordinate.
 */
export function adam(size: number, learningRate: number, options: { beta1?: number; beta2?: number; epsilon?: number } = {}): Optimizer {
  const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = options;
  const m = new Float64Array(size);
  const v = new Float64Array(size);
  let t = 0;
  return {
    step(params, g) {
      t++;
      const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
      for (let i = 0; i < size; i++) {
        const gi = g[i]!;
        const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * gi);
        const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi);
        params[i] = params[i]! + (learningRate * (mi / c1)) / (Math.sqrt(vi / c2) + epsilon);
      }
    },
  };
}

/** Plain gradient ascent: params += lr * g. */
export function sgd(learningRate: number): Optimizer {
  return {
    step(params, g) {
      for (let i = 0; i < params.length; i++) params[i] = params[i]! + learningRate * g[i]!;
    },
  };
}

export type StepCallback = (step: number, value: number, image?: Tensor) => void | Promise<void>;

export interface VisualizeOptions {
  objective: Objective;
  /** Default: fourier() (decorrelated, Olah et al. 2017). */
  parameterization?: Parameterization;
  /** Random transforms applied before each pass (default none; see standardTransforms()). */
  transforms?: readonly Transform[];
  regularizers?: readonly Regularizer[];
  /** Default 256. */
  steps?: number;
  /** Default 0.05 (Lucid's Adam learning rate). */
  learningRate?: number;
  /** Default 'adam'. */
  optimizer?: OptimizerName;
  /** Seeds the initial parameters and the transforms (default 0). */
  seed?: number;
  /** The model's input shape in its own layout (default: its declared shape, batch 1). */
  inputShape?: readonly number[];
  /** The model output that class objectives refer to (default: the first). */
  output?: string;
  /** Called after each step's pass, before its update; `image` on snapshot steps. */
  onStep?: StepCallback;
  /** Keep the image of every k-th step (0, k, 2k, ...). */
  snapshotEvery?: number;
  /** Stops the loop between steps; the result then holds the steps done (aborted: true). */
  signal?: AbortSignal;
}

export interface Visualization {
  /** The final image, in the model's input layout and space. */
  image: Tensor;
  /** Objective value of each step (at its transformed image, before its update). */
  values: number[];
  /** Sum of the penalties of each step. */
  penalties: number[];
  snapshots: { step: number; image: Tensor }[];
  aborted: boolean;
}

interface Geometry {
  specialized: Specialized;
  input: string;
  layout: 'nchw' | 'nhwc';
  shape: ImageShape;
  /** Declared spatial size, where fixed. */
  fixed: { height?: number; width?: number };
}

function imageInput(engine: GradientEngine): ValueInfoProto {
  const g = engine.model.graph!;
  const initializers = new Set((g.initializer ?? []).map((t) => t.name));
  const inputs = (g.input ?? []).filter((i) => !initializers.has(i.name));
  if (inputs.length !== 1) throw new OptionError(`feature visualization needs a model with one image input; this one has ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`);
  return inputs[0]!;
}

async function geometry(engine: GradientEngine, inputShape: readonly number[] | undefined): Promise<Geometry> {
  const input = imageInput(engine);
  const declared = declaredDims(input);
  let dims: number[];
  if (inputShape) dims = [...inputShape];
  else {
    if (!declared || declared.slice(1).some((d) => d === undefined)) {
      throw new OptionError(`input '${input.name}' has shape ${showDims(declared ?? [])}: give inputShape (e.g. [1, 3, 224, 224])`);
    }
    dims = [1, ...(declared.slice(1) as number[])];
  }
  const layout = detectLayout(dims, input.name);
  const [n, a, b, c] = dims as [number, number, number, number];
  const shape: ImageShape = layout.layout === 'nchw' ? [n, a, b, c] : [n, c, a, b];
  if (layoutDims(shape, layout.layout).join() !== dims.join()) throw new OptionError(`inputShape ${showDims(dims)} is not an image batch [N, C, H, W] or [N, H, W, C]`);
  const declaredLayout = declared?.length === 4 ? detectLayout(declared, input.name) : undefined;
  const fixed = { ...(declaredLayout?.height ? { height: declaredLayout.height } : {}), ...(declaredLayout?.width ? { width: declaredLayout.width } : {}) };
  return { specialized: await engine.specialize(dims), input: input.name, layout: layout.layout, shape, fixed };
}

/** The objective's value and its gradient w.r.t. the (NCHW) image: one run per objective tensor. */
async function objectiveGradient(engine: GradientEngine, g: Geometry, parts: readonly ObjectivePart[], x: Float64Array): Promise<{ value: number; gradient: Float64Array }> {
  const input = toModelTensor(x, g.shape, g.layout);
  let value = 0;
  let total: Float32Array | undefined;
  for (const part of parts) {
    const r = await engine.run(input, { wrt: [g.input], targetTensor: part.tensor, expose: [part.tensor] }, part.weights);
    value += objectiveValue(part.weights, r.exposed[part.tensor]!);
    const d = r.gradients[g.input]!.data;
    if (!total) total = d;
    else for (let i = 0; i < d.length; i++) total[i] = total[i]! + d[i]!;
  }
  return { value, gradient: fromModelTensor(total!, g.shape, g.layout) };
}

function positiveInteger(name: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new OptionError(`${name} must be a whole number >= ${min}, not ${v}`);
  return v;
}

function positiveNumber(name: string, v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new OptionError(`${name} must be a positive number, not ${v}`);
  return v;
}

export async function visualize(engine: GradientEngine, options: VisualizeOptions): Promise<Visualization> {
  const steps = positiveInteger('steps', options.steps ?? 256);
  const learningRate = positiveNumber('learningRate', options.learningRate ?? 0.05);
  const snapshotEvery = options.snapshotEvery === undefined ? 0 : positiveInteger('snapshotEvery', options.snapshotEvery);
  const g = await geometry(engine, options.inputShape);
  const parts = resolveObjective(g.specialized, options.objective, options.output === undefined ? {} : { output: options.output });
  const rng = new Rng(options.seed ?? 0);
  const image = (options.parameterization ?? fourier()).create(g.shape, rng);
  const optimizerName = options.optimizer ?? 'adam';
  const optimizer = optimizerName === 'adam' ? adam(image.params.length, learningRate) : optimizerName === 'sgd' ? sgd(learningRate) : undefined;
  if (!optimizer) throw new OptionError(`unknown optimizer '${String(optimizerName)}' (choices: adam, sgd)`);
  const regularizers = options.regularizers ?? [];
  const penalties = regularizers.filter((r): r is Penalty => r.kind === 'penalty');
  const blurs = regularizers.filter((r): r is PeriodicBlur => r.kind === 'blur');
  const transforms = options.transforms ?? [];

  const result: Visualization = { image: { data: new Float32Array(), dims: [] }, values: [], penalties: [], snapshots: [], aborted: false };
  for (let step = 0; step < steps; step++) {
    if (options.signal?.aborted) {
      result.aborted = true;
      break;
    }
    const x = image.image();
    const t = warpMap(g.shape, transforms.map((tr) => tr.sample(rng, g.shape)));
    const { value, gradient } = await objectiveGradient(engine, g, parts, t.forward(x));
    const grad = t.adjoint(gradient);
    let penalty = 0;
    for (const p of penalties) penalty += p.apply(x, g.shape, grad, -1);
    result.values.push(value);
    result.penalties.push(penalty);
    let snapshot: Tensor | undefined;
    if (snapshotEvery && step % snapshotEvery === 0) {
      snapshot = toModelTensor(x, g.shape, g.layout);
      result.snapshots.push({ step, image: snapshot });
    }
    await options.onStep?.(step, value, snapshot);
    optimizer.step(image.params, image.adjoint(grad));
    for (const b of blurs) if ((step + 1) % b.every === 0) image.blur(b.sigma);
  }
  result.image = toModelTensor(image.image(), g.shape, g.layout);
  return result;
}

export interface ClassModelOptions extends Omit<VisualizeOptions, 'objective'> {
  /** The L2 weight lambda (default 1e-3); ignored when `regularizers` is given. */
  lambda?: number;
}

/**
 * Class model visualization (Simonyan et al. 2014, section 2): arg max_I S_c(I) - lambda ||I||^2
 * with S_c the pre-softmax score, from the zero image, in pixel space, no transforms.
 * Every option can be overridden (e.g. a fourier parameterization).
 */
export function classModel(engine: GradientEngine, c: number, options: ClassModelOptions = {}): Promise<Visualization> {
  const { lambda = 1e-3, ...rest } = options;
  return visualize(engine, { parameterization: pixels({ init: 'zero' }), regularizers: [l2(lambda)], ...rest, objective: classLogit(c) });
}

export interface DreamOptions {
  /** Number of scales (default 4). */
  octaves?: number;
  /** Size ratio between octaves (default 1.4). */
  octaveScale?: number;
  /** Steps per octave (default 10). */
  steps?: number;
  /** Step size of the normalized step x += lr g / mean|g| (default 1.5, the notebook's). */
  learningRate?: number;
  /** Largest random shift (wrapping) per step, pixels (default 32). */
  jitter?: number;
  seed?: number;
  /** Called after each step's pass; steps count across octaves. */
  onStep?: StepCallback;
  /** Stops between steps; the detail added so far is returned at full size (aborted: true). */
  signal?: AbortSignal;
}

export interface DreamResult {
  image: Tensor;
  /** 0.5 ||A||^2 of the layer at each step (across octaves, smallest first). */
  values: number[];
  aborted: boolean;
}

/**
 * DeepDream from `image` (a tensor in the model's input layout and space): maximize
 * 0.5 ||A||^2 of `layer`, whose gradient w.r.t. A is A itself, so each step is two runs:
 * a forward pass exposing A, then the input gradient with weights A. Octaves: optimize a
 * downscaled copy first, then carry the added detail up (upscaled) to the next size.
 * Several octaves need a model whose input size is free.
 */
export async function dream(engine: GradientEngine, image: Tensor, layer: LayerRef, options: DreamOptions = {}): Promise<DreamResult> {
  const octaves = positiveInteger('octaves', options.octaves ?? 4);
  const octaveScale = positiveNumber('octaveScale', options.octaveScale ?? 1.4);
  const steps = positiveInteger('steps', options.steps ?? 10);
  const learningRate = positiveNumber('learningRate', options.learningRate ?? 1.5);
  const maxShift = positiveInteger('jitter', options.jitter ?? 32, 0);
  const g0 = await geometry(engine, image.dims);
  const [n, c, h, w] = g0.shape;
  const tensor = resolveLayers(g0.specialized, [layer])[0]!.tensor;
  const shapes: ImageShape[] = Array.from({ length: octaves }, (_, i) => [n, c, Math.round(h / octaveScale ** i), Math.round(w / octaveScale ** i)]);
  if (octaves > 1 && (g0.fixed.height !== undefined || g0.fixed.width !== undefined)) {
    throw new OptionError(`the model takes only ${g0.fixed.height ?? '?'}x${g0.fixed.width ?? '?'} images, but octaves need smaller sizes: use octaves: 1 or a model exported with free height and width`);
  }
  if (shapes.some(([, , sh, sw]) => sh < 1 || sw < 1)) throw new OptionError(`${octaves} octaves at scale ${octaveScale} shrink a ${h}x${w} image below one pixel`);
  const bases = [fromModelTensor(image.data, g0.shape, g0.layout)];
  for (let i = 1; i < octaves; i++) bases.push(resize(shapes[i - 1]!, shapes[i]![2], shapes[i]![3]).forward(bases[i - 1]!));

  const rng = new Rng(options.seed ?? 0);
  const shift = jitter(maxShift, { boundary: 'wrap' });
  const values: number[] = [];
  let detail: Float64Array = new Float64Array(imageSize(shapes[octaves - 1]!));
  let aborted = false;
  // The detail added so far, at octave `o`'s size (bilinear upscaling from the one below).
  let at = octaves - 1;
  const detailAt = (o: number): Float64Array => (o === at ? detail : resize(shapes[at]!, shapes[o]![2], shapes[o]![3]).forward(detail));
  for (let o = octaves - 1; o >= 0 && !aborted; o--) {
    const shape = shapes[o]!;
    detail = detailAt(o);
    at = o;
    const base = bases[o]!;
    const x = base.map((v, i) => v + detail[i]!);
    const g = o === 0 ? g0 : await geometry(engine, layoutDims(shape, g0.layout));
    for (let step = 0; step < steps; step++) {
      if (options.signal?.aborted) {
        aborted = true;
        break;
      }
      const t = warpMap(shape, [shift.sample(rng, shape)]);
      const input = toModelTensor(t.forward(x), shape, g.layout);
      const activations = (await engine.run(input, { expose: [tensor] })).exposed[tensor]!;
      const r = await engine.run(input, { wrt: [g.input], targetTensor: tensor }, activations);
      const value = 0.5 * objectiveValue(activations, activations);
      values.push(value);
      await options.onStep?.(values.length - 1, value);
      const grad = t.adjoint(fromModelTensor(r.gradients[g.input]!.data, shape, g.layout));
      const meanAbs = grad.reduce((s, v) => s + Math.abs(v), 0) / grad.length;
      if (meanAbs > 0) for (let i = 0; i < x.length; i++) x[i] = x[i]! + (learningRate / meanAbs) * grad[i]!;
    }
    detail = x.map((v, i) => v - base[i]!);
  }
  // Aborted at a smaller octave, the detail so far is carried up to the photo's size.
  const full = detailAt(0);
  return { image: toModelTensor(bases[0]!.map((v, i) => v + full[i]!), g0.shape, g0.layout), values, aborted };
}
