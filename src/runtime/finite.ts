/**
 * Guards against silent NaN: one NaN pixel or one NaN weight makes every score NaN, and a
 * normalized heat map of NaN can still look like a map. Inputs are checked before a run;
 * scores and maps after it, and when they are not finite the model's weights are searched
 * for the cause, so the error names it. Also the size guard for one input item.
 */
import { ConvlensError } from '../errors.ts';
import type { ModelProto } from '../model/onnx-proto.ts';
import { DataType, readTensorProto } from '../model/tensor-data.ts';
import type { Tensor } from './session.ts';

export class NonFiniteError extends ConvlensError {
  override name = 'NonFiniteError';
}

/** How many values are NaN or infinite, and where the first one is. */
export function nonFinite(data: ArrayLike<number>): { count: number; first: number; value: number } {
  // Most data is float32 (inputs, scores, maps): a loop of its own stays monomorphic (2x faster).
  if (data instanceof Float32Array && allFinite(data)) return { count: 0, first: -1, value: 0 };
  let count = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) {
      if (count++ === 0) first = i;
    }
  }
  return { count, first, value: first < 0 ? 0 : data[first]! };
}

function allFinite(data: Float32Array): boolean {
  let zero = 0;
  for (let i = 0; i < data.length; i++) zero += data[i]! * 0; // NaN once any value is NaN or infinite
  return zero === 0;
}

/** Index -> [i, j, ...] for row-major dims. */
function position(index: number, dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length);
  for (let k = dims.length - 1; k >= 0; k--) {
    const d = dims[k]! || 1;
    out[k] = index % d;
    index = Math.floor(index / d);
  }
  return out;
}

/** Throws when an input batch holds NaN or infinite values, naming the item and the first position. */
export function assertFiniteInput(images: Tensor): void {
  const bad = nonFinite(images.data);
  if (bad.count === 0) return;
  const at = position(bad.first, images.dims);
  throw new NonFiniteError(`input ${at[0]} holds ${bad.count} non-finite value(s) (the first, ${bad.value}, at [${at.join(', ')}]): the model would give NaN scores; fix the input (a .npy saved with NaN or Inf?)`);
}

/** Names and counts of float initializers holding NaN or infinite values. */
export function nonFiniteWeights(model: ModelProto): { name: string; count: number }[] {
  const out: { name: string; count: number }[] = [];
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== DataType.FLOAT && t.dataType !== DataType.DOUBLE) continue;
    try {
      const { count } = nonFinite(readTensorProto(t).data as Float32Array);
      if (count > 0) out.push({ name: t.name ?? '', count });
    } catch {
      // unreadable constants are reported where they are read
    }
  }
  return out;
}

/** Throws when `values` (scores or a map) are not all finite, naming the cause when the weights show it. */
export function assertFiniteOutput(values: ArrayLike<number>, what: string, model: ModelProto): void {
  const bad = nonFinite(values);
  if (bad.count === 0) return;
  const weights = nonFiniteWeights(model);
  const cause = weights.length > 0
    ? `the model's weights hold NaN or Inf (${weights.slice(0, 3).map((w) => `'${w.name}': ${w.count} value(s)`).join(', ')}${weights.length > 3 ? `, and ${weights.length - 3} more` : ''}): export the model again from a healthy checkpoint`
    : 'the model overflows on this input (values beyond float32 range, or a division by zero): check the input normalization (--preset)';
  throw new NonFiniteError(`${what} has ${bad.count} non-finite value(s) (${bad.value}): ${cause}`);
}

/** The default cap on one input item's values (2^24, e.g. 4096 x 4096 x 1 or 2364 x 2364 x 3). */
export const defaultMaxInputElements = 2 ** 24;
let maxInputElements = defaultMaxInputElements;

/** Change the cap (the CLI's --max-input-elements). */
export function setMaxInputElements(n: number): void {
  maxInputElements = n;
}

/** Refuse an input item so large that evaluating the model would exhaust memory, before anything is allocated. */
export function assertInputSize(itemDims: readonly number[], what = 'the model input'): void {
  let n = 1;
  for (const d of itemDims) n *= d;
  if (!(n <= maxInputElements)) {
    throw new ConvlensError(`${what} of shape [${itemDims.join(', ')}] has ${n} values per image, more than the limit of ${maxInputElements}: evaluating it would need too much memory; give a smaller --size, or raise the limit with --max-input-elements N`);
  }
}
