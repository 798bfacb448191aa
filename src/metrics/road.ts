/**
 * ROAD, RemOve And Debias (Rong et al. 2022, ICML, arXiv:2202.00449, section 4): remove a
 * fraction of the pixels, fill them by noisy linear imputation (imputation.ts), and read the
 * class score. Most relevant first (MoRF, lower is better) removes the top fraction r of the
 * map; least relevant first (LeRF, higher is better) removes the bottom fraction r.
 * Per image we report pytorch-grad-cam's confidence-change convention (ROADMostRelevantFirst /
 * ROADLeastRelevantFirst with `return_diff`: score(imputed) - score(image), softmax
 * probability as in its tutorial) at r = 0.1 .. 0.9, and its ROADCombined value
 *   road = (mean_r LeRF(r) - mean_r MoRF(r)) / 2          (higher is better).
 * Ranking follows the original code: the map is min-max normalized and a fixed random
 * tie-breaker 1e-4 * N(0, 1) is added (seeded). Imputation runs on the model's input tensor
 * (pytorch-grad-cam; the original imputes [0, 1] pixels before normalization), noise 0.01.
 * The original reports accuracy over a dataset instead; see metrics.md §5.
 */
import { OptionError } from '../errors.ts';
import { perturbedScores } from '../methods/perturbation/base.ts';
import { Rng } from '../runtime/rng.ts';
import { minMaxNormalize } from '../viz/normalize.ts';
import { checkMaps, descendingOrder, metricContext, type MetricInput, type MetricScore, type RunOptions } from './common.ts';
import { noisyLinearImpute } from './imputation.ts';

export interface RoadOptions extends RunOptions {
  /** Fractions of pixels removed (default 0.1, 0.2, ..., 0.9). */
  fractions?: readonly number[];
  /** Standard deviation of the imputation noise, in input units (default 0.01). */
  noise?: number;
  /** Default 'probability'. */
  score?: MetricScore;
}

export interface RoadResult {
  /** (mean LeRF - mean MoRF) / 2 per image. */
  values: number[];
  /** Score change per image per fraction. */
  morf: number[][];
  lerf: number[][];
  fractions: number[];
}

export const roadFractions = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

export async function road(input: MetricInput, options: RoadOptions = {}): Promise<RoadResult> {
  const g = checkMaps(input.maps, input.images);
  const fractions = [...(options.fractions ?? roadFractions)];
  if (fractions.some((r) => !(r > 0 && r < 1))) throw new OptionError(`ROAD fractions must lie in (0, 1), not ${fractions.join(', ')}`);
  const noise = options.noise ?? 0.01;
  const ctx = await metricContext(input, options);
  const seed = options.seed ?? 0;
  const pixels = g.height * g.width;
  const result: RoadResult = { values: [], morf: [], lerf: [], fractions };
  for (let row = 0; row < input.maps.length; row++) {
    const rng = new Rng((seed * 7919 + row * 104729 + 1) >>> 0);
    const ranked = minMaxNormalize(input.maps[row]!).map((v) => v + 1e-4 * rng.normal());
    const order = descendingOrder(ranked);
    // Copy 0: the image; then MoRF at each fraction, then LeRF.
    const scores = await perturbedScores(ctx, row, 1 + 2 * fractions.length, (i, copy) => {
      if (i === 0) return;
      const k = (i - 1) % fractions.length;
      const count = Math.floor(pixels * fractions[k]!);
      const removed = new Uint8Array(pixels);
      const morf = i <= fractions.length;
      for (let j = 0; j < count; j++) removed[order[morf ? j : pixels - 1 - j]!] = 1;
      noisyLinearImpute(copy, removed, g, noise, rng);
    }, options.score ?? 'probability');
    const base = scores[0]!;
    const morf = fractions.map((_, k) => scores[1 + k]! - base);
    const lerf = fractions.map((_, k) => scores[1 + fractions.length + k]! - base);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    result.morf.push(morf);
    result.lerf.push(lerf);
    result.values.push((mean(lerf) - mean(morf)) / 2);
  }
  return result;
}
