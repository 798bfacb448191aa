/**
 * What a method runs on: the engine, the image batch, the resolved targets and layers, and
 * the batched runs every method shares. Rows are processed `batchSize` at a time; a
 * shorter last chunk is padded (its last row repeated, the extra rows discarded) when the
 * full-size graph is already compiled, so a partial batch never costs a new specialization
 * and compile; rows are independent in inference graphs (tested as batch == loop).
 */
import type { GradientEngine, EngineRequest } from '../autodiff/engine.ts';
import type { Specialized } from '../runtime/specialize.ts';
import type { Tensor } from '../runtime/session.ts';
import { Rng } from '../runtime/rng.ts';
import type { LayerInfo } from '../targets/layers.ts';
import { argmaxClasses, resolveTargets, type ResolvedTargets } from '../targets/targets.ts';
import { ConvlensError } from '../errors.ts';

/**
 * Resolves after queued events have had their turn. onnxruntime-web's wasm runs can resolve
 * without leaving the microtask queue, so in a Web Worker a loop of runs would not see the
 * cancel message that aborts its signal until the loop ended; onnxruntime-node's runs block
 * the main thread, so finished I/O waits for a turn.
 */
function nextTask(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** A run stopped through its AbortSignal. */
export class CancelledError extends ConvlensError {
  override name = 'CancelledError';
}

/** What a caller can watch or stop while a method runs (not method options). */
export interface RunHooks {
  /** Stops the method before its next onnxruntime run. */
  signal?: AbortSignal;
  /** Fraction (0..1) of the current batched run done, called after each chunk. */
  onProgress?: (fraction: number) => void;
  /** The pre-softmax scores of the unmodified images, when a run computed them anyway. */
  onScores?: (scores: Tensor) => void;
}

export interface InputGeometry {
  layout: 'nchw' | 'nhwc';
  channels: number;
  height: number;
  width: number;
}

export interface RunResult {
  outputs: Record<string, Tensor>;
  exposed: Record<string, Tensor>;
  gradients: Record<string, Tensor>;
  /** The tensor the compiled graph differentiates (pre-softmax score). */
  target: string;
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Rows [from, to) of a batch tensor. */
export function sliceRows(t: Tensor, from: number, to: number): Tensor {
  const row = size(t.dims.slice(1));
  return { data: t.data.subarray(from * row, to * row), dims: [to - from, ...t.dims.slice(1)] };
}

/** Rows picked (with repetition) from a batch tensor. */
export function pickRows(t: Tensor, rows: readonly number[]): Tensor {
  const row = size(t.dims.slice(1));
  const data = new Float32Array(rows.length * row);
  rows.forEach((r, i) => data.set(t.data.subarray(r * row, (r + 1) * row), i * row));
  return { data, dims: [rows.length, ...t.dims.slice(1)] };
}

/** `t` with its last row repeated `pad` more times. */
export function padRows(t: Tensor, pad: number): Tensor {
  if (pad === 0) return t;
  const last = t.dims[0]! - 1;
  return concatRows([t, pickRows(t, Array.from({ length: pad }, () => last))]);
}

/** The input shape(s) of a `rows`-row run of `inputs`. */
function padShape(inputs: Tensor | Record<string, Tensor>, single: boolean, rows: number): number[] | Record<string, number[]> {
  if (single) return [rows, ...(inputs as Tensor).dims.slice(1)];
  return Object.fromEntries(Object.entries(inputs as Record<string, Tensor>).map(([k, t]) => [k, [rows, ...t.dims.slice(1)]]));
}

export function concatRows(parts: readonly Tensor[]): Tensor {
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const data = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { data, dims: [parts.reduce((n, p) => n + p.dims[0]!, 0), ...parts[0]!.dims.slice(1)] };
}

export class MethodContext {
  private batch: number;
  /** Perturbed copies the method announced (plan) and those run so far (advance). */
  private readonly work = { planned: 0, done: 0 };

  constructor(
    readonly engine: GradientEngine,
    /** The model specialized at batch 1 (layers and shapes). */
    readonly specialized: Specialized,
    readonly images: Tensor,
    public targets: ResolvedTargets,
    readonly layers: LayerInfo[],
    readonly geometry: InputGeometry,
    readonly options: { batchSize: number; seed: number; counterfactual: boolean },
    /** The tensor the model's score is read from (pre-softmax). */
    readonly targetTensor: string,
    readonly hooks: RunHooks = {},
  ) {
    this.batch = options.batchSize;
  }

  get rows(): number {
    return this.targets.imageIndex.length;
  }

  /**
   * A method that runs many perturbed copies in several calls announces how many before it
   * starts (`plan`) and counts them as they run (`advance`): progress is then the share of
   * the whole method done, not of each call. Without a plan, each run reports its own rows.
   */
  plan(copies: number): void {
    this.work.planned += copies;
  }

  /** Channels of these layers, summed (their dim 1 in the specialized model). */
  channels(layers: readonly string[]): number {
    return layers.reduce((n, l) => n + (this.specialized.shapes.get(l)?.[1] ?? 0), 0);
  }

  advance(copies: number): void {
    if (this.work.planned === 0) return;
    this.work.done += copies;
    this.hooks.onProgress?.(Math.min(1, this.work.done / this.work.planned));
  }

  /** The image of each row (the batch itself when each image is one row). */
  rowImages(): Tensor {
    const index = this.targets.imageIndex;
    if (index.length === this.images.dims[0] && index.every((image, row) => image === row)) return this.images;
    return pickRows(this.images, index);
  }

  rng(salt = 0): Rng {
    return new Rng((this.options.seed * 7919 + salt) >>> 0);
  }

  /**
   * A generator for one row, seeded by the seed and the row's image content (FNV-1a over
   * its float bits), so a batch draws what a loop over its images draws.
   */
  rngFor(row: number): Rng {
    const image = this.targets.imageIndex[row]!;
    const per = this.images.data.length / this.images.dims[0]!;
    const bits = new Uint32Array(this.images.data.buffer, this.images.data.byteOffset + image * per * 4, per);
    let h = 0x811c9dc5 ^ this.options.seed;
    for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i]!, 0x01000193);
    return new Rng(h >>> 0);
  }

  /** Target weights of the given rows (negated for counterfactual explanations). */
  weights(rows: readonly number[]): Tensor | 'argmax' {
    const w = this.targets.weights;
    if (w === 'argmax') return 'argmax';
    const picked = pickRows(w, rows);
    if (this.options.counterfactual) picked.data.forEach((v, i) => (picked.data[i] = -v));
    return picked;
  }

  /**
   * Replace 'argmax' targets by the explicit predicted classes (one forward pass); methods
   * that perturb the image need the class fixed before perturbing.
   */
  async fixTargets(): Promise<void> {
    if (this.targets.weights !== 'argmax') return;
    const res = await this.run({}, this.images, undefined);
    const scores = res.exposed[this.targetTensor]!;
    const classes = argmaxClasses(scores);
    this.targets = resolveTargets(classes, this.images.dims[0]!, [this.images.dims[0]!, ...scores.dims.slice(1)]);
  }

  /** Weights as a tensor (after fixTargets, or for explicit targets). */
  explicitWeights(rows: readonly number[]): Tensor {
    const w = this.weights(rows);
    if (w === 'argmax') throw new Error('internal: explicit target weights needed; call fixTargets first');
    return w;
  }

  /**
   * Run `request` on `inputs` (one row per batch entry; a record feeds several inputs,
   * e.g. injected tensors, with the same rows), `batchSize` rows per run.
   * `weights`: per-row target weights, 'argmax', or undefined for forward-only runs.
   */
  async run(request: EngineRequest, inputs: Tensor | Record<string, Tensor>, weights: Tensor | 'argmax' | undefined): Promise<RunResult> {
    const single = 'data' in inputs && 'dims' in inputs;
    const n = (single ? (inputs as Tensor) : Object.values(inputs as Record<string, Tensor>)[0]!).dims[0]!;
    const rowsOf = (from: number, to: number, pad: number) => {
      const take = (t: Tensor) => padRows(sliceRows(t, from, to), pad);
      return single ? take(inputs as Tensor) : Object.fromEntries(Object.entries(inputs as Record<string, Tensor>).map(([k, t]) => [k, take(t)]));
    };
    const chunks: RunResult[] = [];
    const argmax = weights === 'argmax';
    const req: EngineRequest = { ...request, ...(argmax && request.wrt?.length ? { targetWeight: 'argmax' as const } : {}) };
    // The target matters to graphs that differentiate it (forward-only runs share one graph).
    const full: EngineRequest = { ...(request.wrt?.length ? { targetTensor: this.targetTensor } : {}), ...req, expose: [...new Set([...(request.expose ?? []), this.targetTensor])] };
    for (let from = 0; from < n; ) {
      if (this.hooks.signal?.aborted) throw new CancelledError('the run was cancelled');
      const to = Math.min(n, from + this.batch);
      const pad = to - from < this.batch && (n > this.batch || this.engine.isCompiled(padShape(inputs, single, this.batch), full)) ? this.batch - (to - from) : 0;
      const chunkInputs = rowsOf(from, to, pad);
      const chunkWeights = weights && !argmax ? padRows(sliceRows(weights, from, to), pad) : undefined;
      let res;
      try {
        res = await this.engine.run(chunkInputs, full, chunkWeights);
      } catch (e) {
        // A model exported for one image at a time (a batch baked into its reshapes): run
        // one by one; if that fails too, its error is the one to report.
        if (this.batch > 1) {
          this.batch = 1;
          continue;
        }
        throw e;
      }
      // Queued events get their turn after every run: a cancel message reaches the abort check
      // above (Web Worker), and I/O that finished during a blocking onnxruntime-node run starts
      // its next step (a decode, an encode, a write) beside the JavaScript that follows rather
      // than when the next run starts (256 images: 17.0 s against 17.5 s on average over 9
      // alternating pairs, 6 of them faster; within this machine's noise).
      await nextTask();
      const keep = (r: Record<string, Tensor>) => (pad === 0 ? r : Object.fromEntries(Object.entries(r).map(([k, t]) => [k, sliceRows(t, 0, to - from)])));
      chunks.push({ outputs: keep(res.outputs), exposed: keep(res.exposed), gradients: keep(res.gradients), target: res.compiled.target });
      from = to;
      if (this.work.planned === 0) this.hooks.onProgress?.(from / n);
    }
    // One run (a batch that fits) is its own result; several are joined row-wise.
    const merge = (pick: (r: RunResult) => Record<string, Tensor>) =>
      chunks.length === 1 ? pick(chunks[0]!) : Object.fromEntries(Object.keys(pick(chunks[0]!)).map((k) => [k, concatRows(chunks.map((c) => pick(c)[k]!))]));
    const result = { outputs: merge((c) => c.outputs), exposed: merge((c) => c.exposed), gradients: merge((c) => c.gradients), target: chunks[0]!.target };
    if (inputs === this.images && !request.inject?.length) this.hooks.onScores?.(result.exposed[this.targetTensor]!);
    return result;
  }

  /** Target score sum(w * target) of each row of `inputs` (forward only). */
  async scores(inputs: Tensor | Record<string, Tensor>, weights: Tensor, request: EngineRequest = {}): Promise<Float32Array> {
    const res = await this.run(request, inputs, undefined);
    const t = res.exposed[this.targetTensor]!;
    const per = t.data.length / t.dims[0]!;
    return Float32Array.from({ length: t.dims[0]! }, (_, r) => {
      let s = 0;
      for (let j = 0; j < per; j++) s += t.data[r * per + j]! * weights.data[r * per + j]!;
      return s;
    });
  }

  /** One row of an input-shaped tensor as [C, H, W] (NHWC inputs are transposed). */
  toCHW(t: Tensor, row: number): Float32Array {
    const { channels: c, height: h, width: w, layout } = this.geometry;
    const src = t.data.subarray(row * c * h * w, (row + 1) * c * h * w);
    if (layout === 'nchw') return Float32Array.from(src);
    const out = new Float32Array(c * h * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(k * h + y) * w + x] = src[(y * w + x) * c + k]!;
    return out;
  }

  /** Classes of rows whose target was 'argmax', read from the run's target scores. */
  classesFrom(res: RunResult): (number | undefined)[] {
    if (this.targets.weights !== 'argmax') return this.targets.classes;
    return argmaxClasses(res.exposed[this.targetTensor]!);
  }
}
