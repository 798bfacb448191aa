/**
 * Infidelity (Yeh et al. 2019, "On the (In)fidelity and Sensitivity of Explanations",
 * NeurIPS, arXiv:1901.09392, definition 2.1):
 *   INFD(Phi, f, x) = E_I[(I^T Phi(x) - (f(x) - f(x - I)))^2],
 * estimated as Captum's `infidelity` does: n perturbations I ~ N(0, noise^2) per input value
 * (Captum's documented example: noise 0.003), f the class logit (the model's output;
 * `score: 'probability'` for the softmax), s = sum(Phi * I), mean over n of (s - df)^2.
 * With `normalize` (default here; Captum's normalize=True, always applied by Yeh et al.'s
 * code) Phi is first scaled by the optimal beta = E[s df] / E[s^2], so a map's arbitrary
 * scale does not matter. Phi is [C, H, W] or an [H, W] map broadcast over channels. Lower is
 * better. Cost: n + 1 forward passes per image.
 */
import { OptionError } from '../errors.ts';
import { geometryOf } from '../methods/explainer.ts';
import { perturbedScores, pixelIndex } from '../methods/perturbation/base.ts';
import { Rng } from '../runtime/rng.ts';
import { metricContext, type MetricInput, type MetricScore, type RunOptions } from './common.ts';

export interface InfidelityOptions extends RunOptions {
  /** Perturbations per image (default 10). */
  samples?: number;
  /** Standard deviation of the Gaussian perturbation, in input units (default 0.003). */
  noise?: number;
  /** Scale Phi by the optimal beta (default true). */
  normalize?: boolean;
  /** Default 'logit'. */
  score?: MetricScore;
}

/** `attributions`: per image [C, H, W] (channel-first) or [H, W]. */
export async function infidelity(input: Omit<MetricInput, 'maps'> & { attributions: readonly Float32Array[] }, options: InfidelityOptions = {}): Promise<number[]> {
  const g = geometryOf(input.images.dims);
  const { channels: C, height: H, width: W } = g;
  const samples = options.samples ?? 10;
  const noise = options.noise ?? 0.003;
  if (!Number.isInteger(samples) || samples < 1) throw new OptionError(`infidelity samples must be an integer >= 1, not ${samples}`);
  if (!(noise > 0)) throw new OptionError(`infidelity noise must be > 0, not ${noise}`);
  if (input.attributions.length !== input.images.dims[0]) throw new OptionError(`${input.attributions.length} attributions for ${input.images.dims[0]} images`);
  const ctx = await metricContext(input, options);
  const at = pixelIndex(g);
  const out: number[] = [];
  for (let row = 0; row < input.attributions.length; row++) {
    const phi = input.attributions[row]!;
    if (phi.length !== C * H * W && phi.length !== H * W) throw new OptionError(`an attribution has ${phi.length} values, not ${C}x${H}x${W} or ${H}x${W}`);
    const perChannel = phi.length === C * H * W;
    const rng = new Rng((((options.seed ?? 0) * 7919) ^ (row * 2654435761)) >>> 0);
    const s = new Float64Array(samples + 1);
    const scores = await perturbedScores(ctx, row, samples + 1, (i, copy) => {
      if (i === 0) return;
      let dot = 0;
      for (let c = 0; c < C; c++) {
        for (let p = 0; p < H * W; p++) {
          const d = noise * rng.normal();
          const j = at(c, Math.floor(p / W), p % W);
          copy[j] = copy[j]! - d;
          dot += d * phi[perChannel ? c * H * W + p : p]!;
        }
      }
      s[i] = dot;
    }, options.score ?? 'logit');
    let ss = 0;
    let sd = 0;
    let dd = 0;
    for (let i = 1; i <= samples; i++) {
      const df = scores[0]! - scores[i]!;
      ss += s[i]! * s[i]!;
      sd += s[i]! * df;
      dd += df * df;
    }
    const beta = options.normalize === false ? 1 : ss > 0 ? sd / ss : 0;
    out.push((beta * beta * ss - 2 * beta * sd + dd) / samples);
  }
  return out;
}
