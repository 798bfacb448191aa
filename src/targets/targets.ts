/**
 * What to explain: per image a class (default: the arg max of the pre-softmax score), the
 * top-k classes, any weight tensor over the outputs, a class channel of a dense output
 * summed over a region or mask, a detection's score, or the cosine similarity of an
 * embedding to a reference. Every form becomes weights over the target tensor (the
 * compiled graph differentiates sum(weights * target)), one row per explanation; for a
 * non-linear target (the cosine) the weights are its gradient with respect to the target
 * tensor at each image, so the chain rule gives the exact gradient of the target.
 */
import { ConvlensError } from '../errors.ts';
import { closest } from '../closest.ts';
import type { Tensor } from '../runtime/session.ts';

/** A class: its index, or its name among the model's labels. */
export type ClassRef = number | string;

/** A region of a dense output [N, classes, H, W] (or NHWC): one class channel, weighted. */
export type Region =
  /** A mask at the output's H x W, or at the input image's size (averaged over each output cell). */
  | { class: ClassRef; mask: Float32Array }
  /** A box in output cells, end-exclusive. */
  | { class: ClassRef; box: readonly [y0: number, x0: number, y1: number, x1: number] }
  /** A box in input pixels (x then y, end-exclusive); each output cell is weighted by the part of it inside. */
  | { class: ClassRef; pixels: readonly [x0: number, y0: number, x1: number, y1: number] };

export type Target =
  | 'auto'
  | ClassRef
  | readonly ClassRef[]
  | { topK: number }
  | { weights: Tensor }
  | { region: Region }
  /**
   * The k-th detection of a [N, K, 6] output (rows x0, y0, x1, y1, score, class in input
   * pixels): its score when that output is explained, or, when a dense head is explained,
   * the detection's class channel over its box. `{ class }`: each image's best detection
   * of that class. `boxes` names the detections output.
   */
  | { detection: number | { class: ClassRef }; boxes?: string }
  /** The cosine similarity of the output (an embedding) to a reference image's ([1, ...input]). */
  | { similarTo: Tensor };

/** Where the input image and other runs' results are needed to place a target. */
export interface TargetContext {
  /** The input image's size and layout (regions in input pixels, dense output layouts). */
  input?: { height: number; width: number; layout: 'nchw' | 'nhwc' };
  /** The detections [N, K, >= 6] of the batch (detection targets on a dense head). */
  detections?: Tensor;
  /** The reference embedding (similarity targets). */
  reference?: Float32Array;
}

export interface ResolvedTargets {
  /** Row r explains image imageIndex[r]. */
  imageIndex: number[];
  /** The class of each row, where it has one. */
  classes: (number | undefined)[];
  /** Weights [rows, ...target shape without batch], or 'argmax' (one row per image, computed in the graph). */
  weights: Tensor | 'argmax';
  /** The box of each row's detection or pixel region, [x0, y0, x1, y1] in input pixels (to draw it). */
  boxes?: (readonly [number, number, number, number] | undefined)[];
}

export class TargetError extends ConvlensError {
  override name = 'TargetError';
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

function checkClass(c: number, classes: number): void {
  if (!Number.isInteger(c) || c < 0 || c >= classes) {
    throw new TargetError(`target class ${c} is outside the model's ${classes} outputs (0..${classes - 1})`);
  }
}

/** One-hot rows over the class axis of the target (every position of a dense output gets its class). */
function classWeights(classes: readonly number[], targetShape: readonly number[], classAxis = 1): Tensor {
  const rowShape = targetShape.slice(1);
  const row = size(rowShape);
  const inner = size(targetShape.slice(classAxis + 1));
  const k = targetShape[classAxis] ?? 1;
  const data = new Float32Array(classes.length * row);
  classes.forEach((c, r) => {
    for (let p = 0; p < row; p++) if (Math.floor(p / inner) % k === c) data[r * row + p] = 1;
  });
  return { data, dims: [classes.length, ...rowShape] };
}

/** Arg max of each image's scores over axis 1 (summed over any further axes). */
export function argmaxClasses(scores: Tensor): number[] {
  const [n, k] = [scores.dims[0]!, scores.dims[1] ?? 1];
  const rest = size(scores.dims.slice(2));
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    let bestValue = -Infinity;
    for (let c = 0; c < k; c++) {
      let v = 0;
      for (let j = 0; j < rest; j++) v += scores.data[(i * k + c) * rest + j]!;
      if (v > bestValue) [best, bestValue] = [c, v];
    }
    return best;
  });
}

/** Softmax over each row of a [N, ...] score tensor (probabilities from pre-softmax scores). */
export function softmaxRows(scores: Tensor): Float32Array {
  const [n, k] = [scores.dims[0]!, scores.data.length / scores.dims[0]!];
  const out = new Float32Array(scores.data.length);
  for (let i = 0; i < n; i++) {
    const row = scores.data.subarray(i * k, (i + 1) * k);
    const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
    let sum = 0;
    row.forEach((v, j) => (sum += out[i * k + j] = Math.exp(v - max)));
    for (let j = 0; j < k; j++) out[i * k + j] = out[i * k + j]! / sum;
  }
  return out;
}

/** The k best classes of each image, best first. */
export function topClasses(scores: Tensor, k: number): number[][] {
  const [n, classes] = [scores.dims[0]!, scores.dims[1]!];
  return Array.from({ length: n }, (_, i) => {
    // A selection (one pass, k kept), not a sort of every class; ties keep the lower class first.
    const row = scores.data.subarray(i * classes, (i + 1) * classes);
    const best: number[] = [];
    for (let c = 0; c < classes; c++) {
      const v = row[c]!;
      if (best.length === k) {
        if (!(v > row[best[k - 1]!]!)) continue;
        best.pop();
      }
      let at = best.length;
      while (at > 0 && v > row[best[at - 1]!]!) at--;
      best.splice(at, 0, c);
    }
    return best;
  });
}

function isClassList(t: Target): t is readonly ClassRef[] {
  return Array.isArray(t);
}

/** A class name as its index among `labels`; an unknown name fails with the likely one and the valid names. */
export function classIndex(c: ClassRef, labels: readonly string[] | undefined): number {
  if (typeof c === 'number') return c;
  if (/^\d+$/.test(c)) return Number(c);
  if (!labels) throw new TargetError(`class '${c}' is a name, but the model has no labels: give --labels (or convlens annotate --labels), or a class index`);
  const i = labels.indexOf(c);
  if (i >= 0) return i;
  const lower = labels.findIndex((l) => l.toLowerCase() === c.toLowerCase());
  if (lower >= 0) return lower;
  const near = closest(c, labels);
  throw new TargetError(`unknown class '${c}'${near ? ` (did you mean '${near}'?)` : ''}: classes are ${labels.join(', ')}`);
}

/** `target` with every class name replaced by its index among `labels`. */
export function resolveClassNames(target: Target, labels: readonly string[] | undefined): Target {
  if (target === 'auto') return target;
  if (typeof target === 'number' || typeof target === 'string') return classIndex(target, labels);
  if (isClassList(target)) return target.map((c) => classIndex(c, labels));
  if ('region' in target) return { region: { ...target.region, class: classIndex(target.region.class, labels) } };
  if ('detection' in target && typeof target.detection === 'object') return { ...target, detection: { class: classIndex(target.detection.class, labels) } };
  return target;
}

/** The axes of a dense output [N, a, b, c]: classes and space, told apart by the input's aspect (ties: the input's layout). */
export function denseAxes(shape: readonly number[], input?: TargetContext['input']): { classAxis: number; heightAxis: number; widthAxis: number } {
  const nchw = { classAxis: 1, heightAxis: 2, widthAxis: 3 };
  const nhwc = { classAxis: 3, heightAxis: 1, widthAxis: 2 };
  if (!input) return nchw;
  const fits = (a: { heightAxis: number; widthAxis: number }) => {
    const [h, w] = [shape[a.heightAxis]!, shape[a.widthAxis]!];
    return h <= input.height && w <= input.width && Math.abs(h * input.width - w * input.height) <= Math.max(h, w);
  };
  const [a, b] = input.layout === 'nhwc' ? [nhwc, nchw] : [nchw, nhwc];
  return fits(a) || !fits(b) ? a : b;
}


/** A region's weight per output cell [H * W]: a box, a mask at output or input size, or a pixel box. */
function regionMask(region: Region, h: number, w: number, input: TargetContext['input']): Float32Array {
  const mask = new Float32Array(h * w);
  if ('box' in region) {
    const [y0, x0, y1, x1] = region.box;
    if (!(0 <= y0 && y0 < y1 && y1 <= h && 0 <= x0 && x0 < x1 && x1 <= w)) throw new TargetError(`region box [${region.box.join(', ')}] is not inside the ${h}x${w} output`);
    for (let y = y0; y < y1; y++) mask.fill(1, y * w + x0, y * w + x1);
    return mask;
  }
  if ('mask' in region && region.mask.length === h * w) return region.mask;
  if (!input) throw new TargetError(`the region needs the input image's size (a mask of ${h}x${w} values, or a box in output cells)`);
  const [sy, sx] = [input.height / h, input.width / w];
  if ('mask' in region) {
    if (region.mask.length !== input.height * input.width) throw new TargetError(`the region mask has ${region.mask.length} values; it must be ${h}x${w} (the output) or ${input.height}x${input.width} (the input image)`);
    // Each output cell: the mean of the mask over the input pixels it covers.
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const [ya, yb, xa, xb] = [Math.floor(y * sy), Math.max(Math.floor(y * sy) + 1, Math.floor((y + 1) * sy)), Math.floor(x * sx), Math.max(Math.floor(x * sx) + 1, Math.floor((x + 1) * sx))];
        let sum = 0;
        for (let py = ya; py < yb; py++) for (let px = xa; px < xb; px++) sum += region.mask[py * input.width + px]!;
        mask[y * w + x] = sum / ((yb - ya) * (xb - xa));
      }
    }
    return mask;
  }
  const [x0, y0, x1, y1] = region.pixels;
  if (!(0 <= x0 && x0 < x1 && x1 <= input.width && 0 <= y0 && y0 < y1 && y1 <= input.height)) {
    throw new TargetError(`region [${region.pixels.join(', ')}] (x0, y0, x1, y1) is not inside the ${input.width}x${input.height} input image`);
  }
  // Each output cell covers [y*sy, (y+1)*sy) x [x*sx, (x+1)*sx) of the input: weight = the part of it inside the box.
  const overlap = (a: number, b: number, lo: number, hi: number, s: number) => Math.max(0, Math.min(b, hi) - Math.max(a, lo)) / s;
  for (let y = 0; y < h; y++) {
    const fy = overlap(y * sy, (y + 1) * sy, y0, y1, sy);
    for (let x = 0; fy > 0 && x < w; x++) mask[y * w + x] = fy * overlap(x * sx, (x + 1) * sx, x0, x1, sx);
  }
  return mask;
}

/** One row of weights per image: class `classes[i]` of a dense output, times that image's region. */
function regionWeights(regions: readonly Region[], classes: readonly number[], targetShape: readonly number[], input: TargetContext['input']): Tensor {
  if (targetShape.length !== 4) throw new TargetError(`a region target needs a dense output [N, classes, H, W]; this one is [${targetShape.join(', ')}]`);
  const axes = denseAxes(targetShape, input);
  const [h, w, k] = [targetShape[axes.heightAxis]!, targetShape[axes.widthAxis]!, targetShape[axes.classAxis]!];
  classes.forEach((c) => checkClass(c, k));
  const weights = classWeights(classes, targetShape, axes.classAxis);
  const strides = [0, 0, 0, 0];
  for (let a = 3, s = 1; a >= 1; a--) [strides[a], s] = [s, s * targetShape[a]!];
  regions.forEach((region, r) => {
    const mask = regionMask(region, h, w, input);
    const at = r * h * w * k;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const cell = at + y * strides[axes.heightAxis]! + x * strides[axes.widthAxis]!;
        for (let c = 0; c < k; c++) weights.data[cell + c * strides[axes.classAxis]!] = weights.data[cell + c * strides[axes.classAxis]!]! * mask[y * w + x]!;
      }
    }
  });
  return weights;
}

/**
 * d cos(e, r) / d e = r / (|e| |r|) - (e . r) e / (|e|^3 |r|), per image embedding e
 * (rows of `embeddings`) and the reference r: the weights whose weighted sum has the
 * cosine's gradient.
 */
export function cosineWeights(embeddings: Tensor, reference: Float32Array): Tensor {
  const n = embeddings.dims[0]!;
  const d = embeddings.data.length / n;
  if (reference.length !== d) throw new TargetError(`the reference embedding has ${reference.length} values; the output has ${d} per image`);
  const norm = (v: ArrayLike<number>, from: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += v[from + j]! * v[from + j]!;
    return Math.sqrt(s);
  };
  const nr = norm(reference, 0);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const ne = norm(embeddings.data, i * d);
    if (ne === 0 || nr === 0) throw new TargetError('an embedding is all zeros: its cosine similarity is undefined');
    let dot = 0;
    for (let j = 0; j < d; j++) dot += embeddings.data[i * d + j]! * reference[j]!;
    for (let j = 0; j < d; j++) data[i * d + j] = reference[j]! / (ne * nr) - (dot * embeddings.data[i * d + j]!) / (ne * ne * ne * nr);
  }
  return { data, dims: embeddings.dims.slice() };
}

/** Whether a target is defined on the output's own values (not its pre-activation head). */
export function needsRawOutput(target: Target, outputShape: readonly number[]): boolean {
  if (typeof target !== 'object' || isClassList(target)) return false;
  return 'similarTo' in target || ('detection' in target && outputShape.length === 3);
}

/** Rows [x0, y0, x1, y1, score, class] of a detections output [N, K, >= 6]. */
export function isDetections(shape: readonly number[]): boolean {
  return shape.length === 3 && shape[2]! >= 6;
}

/**
 * Resolve a target for a batch of `images` against the target tensor's shape
 * ([N, classes, ...]). `scores` (the target tensor's values) is needed for top-k and
 * similarity targets; `context` for regions in input pixels, detections and similarity.
 */
export function resolveTargets(target: Target, images: number, targetShape: readonly number[], scores?: Tensor, context: TargetContext = {}): ResolvedTargets {
  const classes = targetShape[1] ?? 1;
  const all = Array.from({ length: images }, (_, i) => i);
  const none = all.map(() => undefined);
  if (target === 'auto') {
    // A single value per image (a regression head, a [N] output): the value itself.
    if (size(targetShape.slice(1)) === 1) return { imageIndex: all, classes: all.map(() => 0), weights: { data: new Float32Array(images).fill(1), dims: [images, ...targetShape.slice(1)] } };
    // An NHWC dense output: each position's predicted class over the last axis (the graph's arg max runs over axis 1).
    if (targetShape.length === 4 && denseAxes(targetShape, context.input).classAxis === 3) {
      if (!scores) throw new TargetError('the predicted classes of an NHWC dense output need the model scores');
      const k = targetShape[3]!;
      const data = new Float32Array(scores.data.length);
      for (let p = 0; p < data.length; p += k) {
        let best = p;
        for (let c = p + 1; c < p + k; c++) if (scores.data[c]! > scores.data[best]!) best = c;
        data[best] = 1;
      }
      return { imageIndex: all, classes: none, weights: { data, dims: [images, ...targetShape.slice(1)] } };
    }
    return { imageIndex: all, classes: none, weights: 'argmax' };
  }
  if (typeof target === 'string') throw new TargetError(`class '${target}' is a name: resolve it with the model's labels first (resolveClassNames), or give a class index`);
  if (typeof target === 'number' || isClassList(target)) {
    const list = (typeof target === 'number' ? all.map(() => target) : [...target]).map((c) => classIndex(c, undefined));
    if (list.length !== images) throw new TargetError(`${list.length} target classes for ${images} images: give one per image or a single class`);
    list.forEach((c) => checkClass(c, classes));
    return { imageIndex: all, classes: list, weights: classWeights(list, targetShape) };
  }
  if ('topK' in target) {
    if (!scores) throw new TargetError('top-k targets need the model scores');
    if (!Number.isInteger(target.topK) || target.topK < 1 || target.topK > classes) {
      throw new TargetError(`top-k needs k between 1 and ${classes}, not ${target.topK}`);
    }
    const tops = topClasses(scores, target.topK);
    const imageIndex = tops.flatMap((list, i) => list.map(() => i));
    const list = tops.flat();
    return { imageIndex, classes: list, weights: classWeights(list, targetShape) };
  }
  if ('weights' in target) {
    const w = target.weights;
    const row = size(targetShape.slice(1));
    if (w.data.length === row) {
      const data = new Float32Array(row * images);
      all.forEach((i) => data.set(w.data, i * row));
      return { imageIndex: all, classes: none, weights: { data, dims: [images, ...targetShape.slice(1)] } };
    }
    if (w.data.length !== row * images) {
      throw new TargetError(`target weights have ${w.data.length} values; the target tensor needs [${targetShape.slice(1).join(', ')}] per image (${row}) or for the whole batch (${row * images})`);
    }
    return { imageIndex: all, classes: none, weights: { data: w.data, dims: [images, ...targetShape.slice(1)] } };
  }
  if ('similarTo' in target) {
    if (!scores || !context.reference) throw new TargetError('a similarity target needs the embeddings of the images and of the reference');
    return { imageIndex: all, classes: none, weights: cosineWeights(scores, context.reference) };
  }
  if ('detection' in target) {
    const det = context.detections ?? (isDetections(targetShape) ? scores : undefined);
    const count = isDetections(targetShape) ? targetShape[1]! : det?.dims[1] ?? 0;
    const wanted = target.detection;
    const ks = all.map((i) => {
      if (typeof wanted === 'number') {
        if (!Number.isInteger(wanted) || wanted < 0 || wanted >= count) throw new TargetError(`detection ${wanted} is outside the model's ${count} detections (0..${count - 1})`);
        return wanted;
      }
      if (!det) throw new TargetError('a detection target by class needs the model\'s detections');
      const c = classIndex(wanted.class, undefined);
      let best = -1;
      for (let k = 0; k < count; k++) {
        const r = (i * count + k) * det.dims[2]!;
        if (Math.round(det.data[r + 5]!) === c && (best < 0 || det.data[r + 4]! > det.data[(i * count + best) * det.dims[2]! + 4]!)) best = k;
      }
      if (best < 0) throw new TargetError(`input ${i} has no detection of class ${c}: explain another class, or a detection by its index`);
      return best;
    });
    if (isDetections(targetShape)) {
      const row = size(targetShape.slice(1));
      const data = new Float32Array(images * row);
      for (const i of all) data[i * row + ks[i]! * targetShape[2]! + 4] = 1;
      const boxes = det ? all.map((i) => Array.from(det.data.subarray((i * count + ks[i]!) * det.dims[2]!, (i * count + ks[i]!) * det.dims[2]! + 4)) as [number, number, number, number]) : undefined;
      return { imageIndex: all, classes: none, weights: { data, dims: [images, ...targetShape.slice(1)] }, ...(boxes ? { boxes } : {}) };
    }
    if (!det || !isDetections(det.dims)) throw new TargetError('a detection target on a dense output needs the model\'s detections [N, K, 6] (x0, y0, x1, y1, score, class)');
    const cols = det.dims[2]!;
    const rows = all.map((i) => det.data.subarray((i * count + ks[i]!) * cols, (i * count + ks[i]! + 1) * cols));
    const cls = rows.map((r) => Math.round(r[5]!));
    const regions = rows.map((r, i): Region => {
      const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
      const [x0, y0] = [clamp(r[0]!, context.input?.width ?? Infinity), clamp(r[1]!, context.input?.height ?? Infinity)];
      const [x1, y1] = [clamp(r[2]!, context.input?.width ?? Infinity), clamp(r[3]!, context.input?.height ?? Infinity)];
      if (!(x1 > x0 && y1 > y0)) throw new TargetError(`detection ${ks[i]} of input ${i} has an empty box [${Array.from(r.subarray(0, 4)).join(', ')}]`);
      return { class: cls[i]!, pixels: [x0, y0, x1, y1] };
    });
    return { imageIndex: all, classes: cls, weights: regionWeights(regions, cls, targetShape, context.input), boxes: regions.map((r) => ('pixels' in r ? r.pixels : undefined)) };
  }
  const region = target.region;
  const c = classIndex(region.class, undefined);
  const box = 'pixels' in region ? region.pixels : undefined;
  return { imageIndex: all, classes: all.map(() => c), weights: regionWeights(all.map(() => region), all.map(() => c), targetShape, context.input), ...(box ? { boxes: all.map(() => box) } : {}) };
}
