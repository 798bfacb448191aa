/**
 * Finer-CAM. Zhang et al. 2025, "Finer-CAM: Spotting the Difference Reveals Finer Details
 * for Visual Explanation" (section 3): Grad-CAM of the target class's score minus alpha
 * times the scores of the classes most similar to it, so the map shows what tells the
 * class apart from its look-alikes rather than what they share.
 *
 * As pytorch-grad-cam's FinerCAM (its FinerWeightedTarget): the compared classes are the
 * `comparisons` classes whose logits are closest to the target's, and with p = softmax(y)
 *   T(y) = sum_j p_j (y_c - alpha y_j) / (sum_j p_j + 1e-9),
 * differentiated as a whole (the p_j included). T is a function of the scores only, so its
 * gradient dT/dy, computed here from one forward pass, is the seed the compiled backward
 * pass starts from: the chain rule then gives dT/dA at every layer exactly.
 */
import { ConvlensError } from '../../errors.ts';
import type { Tensor } from '../../runtime/session.ts';
import { argmaxClasses } from '../../targets/targets.ts';
import type { Method, RawResult } from '../types.ts';
import { gradientCams } from './base.ts';
import { gradCamMap } from './grad-cam.ts';

export interface FinerCamOptions {
  alpha: number;
  comparisons: number;
}

export class FinerCamTargetError extends ConvlensError {
  override name = 'FinerCamTargetError';
}

const STABILIZER = 1e-9;

/** The `count` classes other than `main` whose scores are closest to y[main] (ties: lower index first). */
export function mostSimilarClasses(y: ArrayLike<number>, main: number, count: number): number[] {
  const others = Array.from({ length: y.length }, (_, c) => c).filter((c) => c !== main);
  others.sort((a, b) => Math.abs(y[a]! - y[main]!) - Math.abs(y[b]! - y[main]!) || a - b);
  return others.slice(0, count);
}

/** T(y) above and its gradient dT/dy, in float64. */
export function finerTarget(y: ArrayLike<number>, main: number, compared: readonly number[], alpha: number): { value: number; gradient: Float64Array } {
  const C = y.length;
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, y[c]!);
  const e = Float64Array.from({ length: C }, (_, c) => Math.exp(y[c]! - max));
  const total = e.reduce((a, b) => a + b, 0);
  const p = e.map((v) => v / total);
  const inJ = new Float64Array(C);
  for (const j of compared) inJ[j] = 1;
  let S = 0;
  let N = 0;
  for (const j of compared) {
    S += p[j]!;
    N += p[j]! * (y[main]! - alpha * y[j]!);
  }
  const D = S + STABILIZER;
  // dp_j/dy_i = p_j (delta_ij - p_i):
  //   dN/dy_i = [i in J] p_i (y_c - alpha y_i) - p_i N + delta_ic S - alpha [i in J] p_i,
  //   dD/dy_i = [i in J] p_i - p_i S.
  const gradient = Float64Array.from({ length: C }, (_, i) => {
    const dN = inJ[i]! * p[i]! * (y[main]! - alpha * y[i]!) - p[i]! * N + (i === main ? S : 0) - alpha * inJ[i]! * p[i]!;
    const dD = inJ[i]! * p[i]! - p[i]! * S;
    return dN / D - (N * dD) / (D * D);
  });
  return { value: N / D, gradient };
}

export const finerCam: Method<FinerCamOptions> = {
  id: 'finer-cam',
  family: 'cam',
  output: 'map',
  usesLayers: true,
  needsGradients: true,
  relu: true,
  paper: 'Zhang et al. 2025, https://arxiv.org/abs/2501.11309 (section 3: the logit difference y^c - gamma y^d)',
  summary: 'Grad-CAM of the class score minus its most similar classes\' scores: what sets the class apart from look-alikes.',
  options: [
    { name: 'alpha', type: 'number', default: 1, min: 0, flag: 'finer-alpha', help: "how much of the similar classes' scores is subtracted (0: plain Grad-CAM)" },
    { name: 'comparisons', type: 'integer', default: 3, min: 1, help: 'how many of the most similar classes (closest logits) are compared against' },
  ],
  run: async (ctx, { alpha, comparisons }): Promise<RawResult[]> => {
    const forward = await ctx.run({}, ctx.rowImages(), undefined);
    const scores = forward.exposed[ctx.targetTensor]!;
    if (scores.dims.length !== 2) throw new FinerCamTargetError(`finer-cam compares class scores [N, classes]; this model's scores are [${scores.dims.join(', ')}]: use grad-cam for dense outputs`);
    const C = scores.dims[1]!;
    if (C < 2) throw new FinerCamTargetError('finer-cam compares classes, and this model has one score: use grad-cam');
    const argmax = ctx.targets.weights === 'argmax' ? argmaxClasses(scores) : undefined;
    const classes = ctx.targets.classes.map((c, row) => {
      const main = argmax?.[row] ?? c;
      if (main === undefined) throw new FinerCamTargetError('finer-cam explains a class: give the target as a class index, not weights or a region');
      return main;
    });
    const count = Math.min(comparisons, C - 1);
    const compared = classes.map((main, row) => mostSimilarClasses(scores.data.subarray(row * C, (row + 1) * C), main, count));
    const seeds: Tensor = { data: new Float32Array(ctx.rows * C), dims: [ctx.rows, C] };
    const sign = ctx.options.counterfactual ? -1 : 1;
    classes.forEach((main, row) => {
      const { gradient } = finerTarget(scores.data.subarray(row * C, (row + 1) * C), main, compared[row]!, alpha);
      gradient.forEach((g, i) => (seeds.data[row * C + i] = sign * g));
    });
    const results = await gradientCams(ctx, 'finer-cam', gradCamMap, seeds);
    ctx.targets = { ...ctx.targets, classes };
    const fewer = count < comparisons ? [`finer-cam compared ${count} classes, not ${comparisons}: the model has ${C} classes`] : [];
    return results.map((r) => ({
      ...r,
      extras: Object.fromEntries(compared[r.row]!.map((j, i) => [`compared${i + 1}`, j])),
      ...(fewer.length || r.warnings ? { warnings: [...fewer, ...(r.warnings ?? [])] } : {}),
    }));
  },
};
