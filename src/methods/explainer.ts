/**
 * The library's entry point for explanations: one model, any method, any batch of images.
 *
 *   await using explainer = await Explainer.create(readModelFile('model.onnx'));
 *   const maps = await explainer.explain(images, 'grad-cam', { target: 'auto' });
 */
import { ConvlensError } from '../errors.ts';
import type { ModelProto } from '../model/onnx-proto.ts';
import { GradientEngine, type CompiledStore } from '../autodiff/engine.ts';
import type { SessionOptions, Tensor } from '../runtime/session.ts';
import type { Specialized } from '../runtime/specialize.ts';
import { assertFiniteInput, assertFiniteOutput, assertInputSize } from '../runtime/finite.ts';
import { checkModelGraph } from '../model/model.ts';
import { resolveLayers, spatialLayers, type LayerInfo } from '../targets/layers.ts';
import { findHead, type Activation } from '../targets/head.ts';
import { prepareTarget } from '../targets/prepare.ts';
import { MethodContext, type InputGeometry, type RunHooks } from './context.ts';
import { finish, fuse } from './postprocess.ts';
import { getMethod } from './registry.ts';
import { validateOptions } from './options.ts';
import type { CommonOptions, Explanation } from './types.ts';

export class InputShapeError extends ConvlensError {
  override name = 'InputShapeError';
}

/** NCHW or NHWC, read from a batch's dims: NHWC only when the last dim alone is 1 or 3. */
export function geometryOf(dims: readonly number[]): InputGeometry {
  if (dims.length !== 4) throw new InputShapeError(`images must be a batch [N, C, H, W] or [N, H, W, C]; got [${dims.join(', ')}]`);
  const [, a, b, c] = dims as [number, number, number, number];
  if (a !== 1 && a !== 3 && (c === 1 || c === 3)) return { layout: 'nhwc', channels: c, height: a, width: b };
  return { layout: 'nchw', channels: a, height: b, width: c };
}

export class Explainer {
  private constructor(readonly engine: GradientEngine) {}

  static async create(model: ModelProto, options: SessionOptions & { capacity?: number; store?: CompiledStore } = {}): Promise<Explainer> {
    checkModelGraph(model, 'the model');
    return new Explainer(new GradientEngine(model, options));
  }

  /** Batches already checked: a batch is often explained by several methods in turn. */
  private readonly checked = new WeakSet<Float32Array>();

  /** The model specialized for one image of this batch's size. */
  async specialize(images: Tensor): Promise<Specialized> {
    // Checked before anything runs: a size that fits in memory, and no NaN (it would spread to every score).
    if (!this.checked.has(images.data)) {
      assertInputSize(images.dims.slice(1));
      assertFiniteInput(images);
      this.checked.add(images.data);
    }
    return this.engine.specialize([1, ...images.dims.slice(1)]);
  }

  /** Candidate layers for spatial methods at this input size. */
  async layers(imageDims: readonly number[]): Promise<LayerInfo[]> {
    return spatialLayers(await this.engine.specialize([1, ...imageDims.slice(1)]));
  }

  /** Model outputs and the scores of `output`'s head (pre-softmax, pre-sigmoid) for a batch. */
  async predict(images: Tensor, output?: string): Promise<{ scores: Tensor; outputs: Record<string, Tensor>; target: string; activation: Activation }> {
    const s = await this.specialize(images);
    const { tensor: target, activation } = findHead(s, output);
    const res = await this.engine.run(images, { expose: [target] });
    assertFiniteOutput(res.exposed[target]!.data, 'the model\'s scores', this.engine.model);
    return { scores: res.exposed[target]!, outputs: res.outputs, target, activation };
  }

  /**
   * Explain a batch with one method. `hooks` watch or stop the run (progress, cancel) and
   * receive the class scores when the method computed them on the way.
   */
  async explain(images: Tensor, methodId: string, options: CommonOptions & Record<string, unknown> = {}, hooks: RunHooks = {}): Promise<Explanation[]> {
    const method = getMethod(methodId);
    const methodOptions = validateOptions(method.id, method.options, options);
    const geometry = geometryOf(images.dims);
    const s = await this.specialize(images);
    const { head, targets } = await prepareTarget(this.engine, s, images, options.target ?? 'auto', options.output, geometry);
    const target = head.tensor;
    const layers = method.usesLayers ? resolveLayers(s, options.targetLayers, target) : [];
    const ctx = new MethodContext(this.engine, s, images, targets, layers, geometry, {
      batchSize: options.batchSize ?? 8,
      seed: options.seed ?? 0,
      counterfactual: options.counterfactual ?? false,
    }, target, {
      ...hooks,
      // NaN scores (from a NaN weight) can still give a normal-looking map: stop at the scores.
      onScores: (scores) => {
        assertFiniteOutput(scores.data, "the model's scores", this.engine.model);
        hooks.onScores?.(scores);
      },
    });
    const raws = await method.run(ctx, methodOptions);
    const results = raws.map((r) => {
      const e = finish(method, r, { image: ctx.targets.imageIndex[r.row]!, class: method.usesTarget === false ? undefined : ctx.targets.classes[r.row] }, geometry);
      const box = ctx.targets.boxes?.[r.row];
      return box ? { ...e, box } : e;
    });
    for (const r of results) assertFiniteOutput(r.raw, `the ${method.id} result for input ${r.image}`, this.engine.model);
    if (!options.fuse || layers.length < 2) return results;
    const fused: Explanation[] = [];
    for (let row = 0; row < ctx.rows; row++) {
      const own = results.filter((_, i) => raws[i]!.row === row);
      fused.push(...own, fuse(own));
    }
    return fused;
  }

  async release(): Promise<void> {
    await this.engine.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
