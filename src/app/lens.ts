/**
 * The application service: one opened model with its input decisions (see input-spec.ts),
 * offering what every interface needs (predictions with labels, explanations, layers,
 * the specialized graph) so the CLI, the explorer server and library users share one
 * path and nothing above `methods/` reaches into the gradient engine.
 *
 *   await using lens = await openModelFile('model.onnx');          // Node (open-model.ts)
 *   const batch = await lens.explainBatch(tensor, ['grad-cam']);  // maps + top classes, one run
 */
import type { ModelProto } from '../model/onnx-proto.ts';
import { GraphView } from '../model/graph-view.ts';
import { normalizeOpset } from '../model/opset.ts';
import { ModelError } from '../model/model.ts';
import type { SessionOptions, Tensor } from '../runtime/session.ts';
import type { Specialized } from '../runtime/specialize.ts';
import { Explainer } from '../methods/explainer.ts';
import type { CompiledStore } from '../autodiff/engine.ts';
import { getMethod, optionsFor } from '../methods/registry.ts';
import type { RunHooks } from '../methods/context.ts';
import type { CommonOptions, Explanation } from '../methods/types.ts';
import { needsRawOutput, resolveClassNames, topClasses } from '../targets/targets.ts';
import { spatialLayers, type LayerInfo } from '../targets/layers.ts';
import { InputError } from '../input/layout.ts';
import { featureMaps, type FeatureMapSet } from '../inspect/feature-maps.ts';
import { decideInput, inputShapeOf, type InputOverrides, type InputSpec } from './input-spec.ts';
import type { ModelDefaults } from './model-defaults.ts';
import { classScores, findHead, probabilities, type Activation } from '../targets/head.ts';

export interface ClassScore {
  class: number;
  label: string;
  /** Softmax of the scores (a sigmoid for sigmoid heads; NaN for a single raw value, a regression). */
  probability: number;
  /** Pre-softmax (pre-sigmoid) score; a dense head's best position. */
  score: number;
}

export interface BatchExplanation {
  /** Top classes of each image, from the same runs as the explanations where possible. */
  top: ClassScore[][];
  /** Per method id: its results and wall time. */
  methods: { id: string; results: Explanation[]; ms: number }[];
}

export interface OpenOptions extends InputOverrides, SessionOptions {
  /** The model's own defaults (metadata, sidecar), overridden by the explicit fields. */
  defaults?: ModelDefaults;
  /** Name shown when neither options nor defaults give one (e.g. the file name). */
  fallbackName?: string;
  /** How many classes `top` lists (default 5). */
  topK?: number;
  /** Where compiled graphs are kept between processes (openModelFile: the disk cache). */
  store?: CompiledStore;
}

export class Lens {
  private constructor(
    readonly model: ModelProto,
    readonly view: GraphView,
    readonly spec: InputSpec,
    readonly explainer: Explainer,
    private readonly topK: number,
  ) {}

  static async open(model: ModelProto, options: OpenOptions = {}): Promise<Lens> {
    const view = new GraphView(normalizeOpset(model).graph!);
    const input = view.inputs[0];
    if (!input) throw new ModelError(`'${options.fallbackName ?? 'the model'}' has no graph input: export the model with its image input`);
    if (view.outputs.length === 0) throw new ModelError(`'${options.fallbackName ?? 'the model'}' has no graph output: export the model with its class scores as output`);
    const spec = decideInput(input, options.defaults ?? {}, options, options.fallbackName ?? 'model');
    const { intraOpThreads, spinning, optimization, store } = options;
    const explainer = await Explainer.create(model, {
      ...(store ? { store } : {}),
      ...(intraOpThreads !== undefined ? { intraOpThreads } : {}),
      ...(spinning !== undefined ? { spinning } : {}),
      ...(optimization !== undefined ? { optimization } : {}),
    });
    return new Lens(model, view, spec, explainer, options.topK ?? 5);
  }

  get warnings(): readonly string[] {
    return this.spec.warnings;
  }

  /** The input shape of a batch (throws when the model's size is open and none was given). */
  inputShape(batch = 1): number[] {
    const shape = inputShapeOf(this.spec, batch);
    if (!shape) {
      throw new InputError(`input '${this.spec.inputName}' has a symbolic height/width: give the image size (--size H,W, or convlens annotate --size)`);
    }
    return shape;
  }

  labelOf(c: number): string {
    return this.spec.labels?.[c] ?? `class ${c}`;
  }

  /** The model specialized for one image (layers, shapes, summary, graph). */
  specialized(): Promise<Specialized> {
    return this.explainer.specialize({ data: new Float32Array(0), dims: this.inputShape(1) });
  }

  async layers(): Promise<LayerInfo[]> {
    return spatialLayers(await this.specialized());
  }

  /** Class scores of each image as top-k lists (and the raw scores). */
  async predict(images: Tensor, k = this.topK, output?: string): Promise<{ top: ClassScore[][]; scores: Tensor }> {
    const { scores, activation } = await this.explainer.predict(images, output);
    const { perClass, labelled } = this.classScores(scores, output);
    return { top: this.topOf(perClass, k, activation, labelled), scores };
  }

  /** The head of a model output (default: the first): its score tensor and activation. */
  async head(output?: string): Promise<ReturnType<typeof findHead>> {
    return findHead(await this.specialized(), output);
  }

  /**
   * One score per class [N, K] (a dense head's best position per class). The labels name
   * the first output's classes (checked), or another output's when their counts agree.
   */
  private classScores(scores: Tensor, output: string | undefined): { perClass: Tensor; labelled: boolean } {
    const { height, width } = this.spec.size ?? { height: 0, width: 0 };
    const perClass = classScores(scores, this.spec.size ? { height, width, layout: this.spec.layout.layout } : undefined);
    if (output === undefined || output === this.view.outputs[0]!.name) {
      this.checkLabels(perClass);
      return { perClass, labelled: true };
    }
    return { perClass, labelled: this.spec.labels?.length === perClass.dims[1] };
  }

  /** Ranked classes from per-class scores [N, K] (pre-softmax, or pre-sigmoid with activation 'sigmoid'). */
  topOf(scores: Tensor, k = this.topK, activation: Activation = 'softmax', labelled = true): ClassScore[][] {
    const n = scores.dims[0]!;
    const classes = scores.data.length / n;
    const p = probabilities(scores, activation);
    return topClasses(scores, Math.min(k, classes)).map((row, i) =>
      row.map((c) => ({ class: c, label: labelled ? this.labelOf(c) : `class ${c}`, probability: p[i * classes + c]!, score: scores.data[i * classes + c]! })),
    );
  }

  /** Activations of the given layers (tensor names) for a batch, one forward run. */
  featureMaps(images: Tensor, layers: readonly string[]): Promise<FeatureMapSet[]> {
    return featureMaps(this.explainer.engine, images, layers);
  }

  async explain(images: Tensor, methodId: string, options: CommonOptions & Record<string, unknown> = {}, hooks: RunHooks = {}): Promise<Explanation[]> {
    const target = options.target === undefined ? {} : { target: resolveClassNames(options.target, this.spec.labels) };
    // LRP's z^B rule bounds the input by the images' own preprocessing unless told otherwise.
    const box = options['box'] === undefined && typeof this.spec.preset === 'string' && getMethod(methodId).options.some((o) => o.name === 'box') ? { box: this.spec.preset } : {};
    return this.explainer.explain(images, methodId, { ...options, ...target, ...box }, hooks);
  }

  /**
   * Several methods on one batch, and the batch's top classes: the scores come out of the
   * methods' own runs (a separate forward pass only when no method ran the plain images).
   */
  async explainBatch(images: Tensor, methodIds: readonly string[], options: CommonOptions & Record<string, unknown> = {}, hooks: Omit<RunHooks, 'onScores'> & { onMethod?: (id: string, index: number) => void } = {}): Promise<BatchExplanation> {
    let scores: Tensor | undefined;
    const s = await this.explainer.specialize(images);
    const head = findHead(s, options.output);
    // Scores of a target on the raw output (an embedding, detections) are not class scores.
    const scoresAreClasses = !needsRawOutput(options.target ?? 'auto', s.shapes.get(head.output) ?? []);
    const methods: BatchExplanation['methods'] = [];
    for (const [i, id] of methodIds.entries()) {
      hooks.onMethod?.(id, i);
      const t0 = performance.now();
      const results = await this.explain(images, id, optionsFor(id, options), { ...hooks, onScores: (s) => scoresAreClasses && (scores ??= s) });
      methods.push({ id, results, ms: performance.now() - t0 });
    }
    scores ??= (await this.explainer.predict(images, options.output)).scores;
    const { perClass, labelled } = this.classScores(scores, options.output);
    return { top: this.topOf(perClass, this.topK, head.activation, labelled), methods };
  }

  private checkLabels(scores: Tensor): void {
    const classes = scores.data.length / scores.dims[0]!;
    const labels = this.spec.labels;
    if (labels && labels.length !== classes) {
      throw new InputError(`${labels.length} labels for a model with ${classes} classes: give one label per class`);
    }
  }

  async release(): Promise<void> {
    await this.explainer.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
