/**
 * Average drop, increase in confidence and average gain (Chattopadhay et al. 2018,
 * "Grad-CAM++", WACV, arXiv:1710.11063, section 6.1.1; average gain: Zhang et al. 2024,
 * "Opti-CAM"). The explanation map keeps the image where the map is high:
 *   E = x * M,  M = min-max normalized map (Xplique), multiplied in the model's input space;
 *   drop_i = max(0, Y_i - O_i) / Y_i,   increase_i = [O_i > Y_i],   gain_i = max(0, O_i - Y_i) / (1 - Y_i)
 * with Y the class's softmax probability on x and O on E. The paper's numbers are the means
 * times 100 (lower drop, higher increase and gain are better). 2 forward passes per image.
 */
import { applyMask, perturbedScores } from '../methods/perturbation/base.ts';
import { minMaxNormalize } from '../viz/normalize.ts';
import { checkMaps, metricContext, type MetricInput, type MetricScore, type RunOptions } from './common.ts';

export interface ConfidenceOptions extends RunOptions {
  /** Default 'probability' (the ratio is meaningless for logits, which can be <= 0). */
  score?: MetricScore;
}

export interface ConfidenceResult {
  drop: number[];
  increase: number[];
  gain: number[];
  /** Y and O per image. */
  base: number[];
  masked: number[];
}

export async function confidenceChange(input: MetricInput, options: ConfidenceOptions = {}): Promise<ConfidenceResult> {
  const g = checkMaps(input.maps, input.images);
  const ctx = await metricContext(input, options);
  const out: ConfidenceResult = { drop: [], increase: [], gain: [], base: [], masked: [] };
  for (let row = 0; row < input.maps.length; row++) {
    const mask = minMaxNormalize(input.maps[row]!);
    const scores = await perturbedScores(ctx, row, 2, (i, copy) => {
      if (i === 1) applyMask(copy, mask, g);
    }, options.score ?? 'probability');
    const [y, o] = [scores[0]!, scores[1]!];
    out.base.push(y);
    out.masked.push(o);
    out.drop.push(Math.max(0, y - o) / y);
    out.increase.push(o > y ? 1 : 0);
    out.gain.push(Math.max(0, o - y) / (1 - y));
  }
  return out;
}
