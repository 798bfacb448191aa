/**
 * Max-sensitivity (Yeh et al. 2019, NeurIPS, arXiv:1901.09392, definition 3.1), as Captum's
 * `sensitivity_max` computes it: n perturbations x + d with d ~ U(-r, r) per input value
 * (default r = 0.02, n = 10), the explanation recomputed for the same class, and
 *   max_n ||Phi(x + d) - Phi(x)||_F / ||Phi(x)||_F        (a zero norm counts as 1).
 * The paper's definition is absolute; Captum's and Quantus' relative form is scale-free, so
 * maps of different methods compare. Lower is better. Cost: n explanations per image, all
 * images' perturbations in one batched explain call.
 */
import { OptionError } from '../errors.ts';
import { Rng } from '../runtime/rng.ts';
import type { Tensor } from '../runtime/session.ts';
import { imageRow } from './common.ts';

/** Attributions (any fixed shape per method) of `images` for `classes`, one per image. */
export type ExplainFn = (images: Tensor, classes: readonly number[]) => Promise<Float32Array[]>;

export interface SensitivityOptions {
  /** Half-width of the uniform perturbation, in input units (default 0.02). */
  radius?: number;
  /** Perturbations per image (default 10). */
  samples?: number;
  seed?: number;
}

export async function maxSensitivity(input: { images: Tensor; classes: readonly number[]; explain: ExplainFn; attributions?: readonly Float32Array[] }, options: SensitivityOptions = {}): Promise<number[]> {
  const radius = options.radius ?? 0.02;
  const samples = options.samples ?? 10;
  if (!(radius > 0)) throw new OptionError(`max-sensitivity radius must be > 0, not ${radius}`);
  if (!Number.isInteger(samples) || samples < 1) throw new OptionError(`max-sensitivity samples must be an integer >= 1, not ${samples}`);
  const { images, classes } = input;
  const n = images.dims[0]!;
  const base = input.attributions ?? (await input.explain(images, classes));
  const per = images.data.length / n;
  const data = new Float32Array(n * samples * per);
  const rng = new Rng(((options.seed ?? 0) * 7919 + 17) >>> 0);
  for (let row = 0; row < n; row++) {
    const x = imageRow(images, row);
    for (let k = 0; k < samples; k++) {
      const off = (row * samples + k) * per;
      for (let j = 0; j < per; j++) data[off + j] = x[j]! + radius * (2 * rng.uniform() - 1);
    }
  }
  const perturbed = await input.explain({ data, dims: [n * samples, ...images.dims.slice(1)] }, classes.flatMap((c) => Array<number>(samples).fill(c)));
  return base.map((phi, row) => {
    const norm = Math.sqrt(phi.reduce((a, v) => a + v * v, 0)) || 1;
    let worst = 0;
    for (let k = 0; k < samples; k++) {
      const other = perturbed[row * samples + k]!;
      let d = 0;
      for (let j = 0; j < phi.length; j++) d += (other[j]! - phi[j]!) ** 2;
      worst = Math.max(worst, Math.sqrt(d) / norm);
    }
    return worst;
  });
}
