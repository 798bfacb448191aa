/**
 * Relevance methods on the ResNet-50-shaped model, in one process:
 * `node --import tsx bench/relevance-case.ts BATCH`. Prints one JSON line: the forward
 * pass of the batch and each row's median time (lrp once per composite; deeplift with a
 * zeros baseline; deeplift-shap with 4 noise baselines; gradient-shap with 8 samples).
 */
import { compositeNames } from '../src/autodiff/relevance/composites.ts';
import { Explainer } from '../src/methods/explainer.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { imagenetInputShape, resnet50 } from './models.ts';
import { median, peakRssMb } from './timing.ts';

const batch = Number(process.argv[2] ?? 1);
const repeats = Number(process.env['BENCH_REPEATS'] ?? 5);
const shape = imagenetInputShape(batch);
const image: Tensor = { data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37)), dims: shape };

/** Row name -> method and options. */
export const relevanceRows: Record<string, [string, Record<string, unknown>]> = {
  ...Object.fromEntries(compositeNames.map((c) => [`lrp ${c}`, ['lrp', { composite: c }]])),
  'deeplift (zeros)': ['deeplift', { baseline: 'zeros' }],
  'deeplift-shap (4 baselines)': ['deeplift-shap', { samples: 4 }],
  'gradient-shap (8 samples)': ['gradient-shap', { samples: 8 }],
};
const slow = new Set(['deeplift-shap (4 baselines)', 'gradient-shap (8 samples)']);

const explainer = await Explainer.create(resnet50(1));
const result: Record<string, number> = {};
result['forward'] = await median(() => explainer.engine.run(image, {}), { repeats });
for (const [row, [id, options]] of Object.entries(relevanceRows)) {
  result[row] = await median(() => explainer.explain(image, id, { ...options, target: 'auto', batchSize: 8 }), slow.has(row) ? { warmup: 1, repeats: 1 } : { repeats });
  process.stderr.write(`  ${row}: ${result[row]!.toFixed(0)} ms (${(result[row]! / result['forward']!).toFixed(2)}x)\n`);
}
result['peak RSS MB'] = peakRssMb();
await explainer.release();
console.log(JSON.stringify({ batch, result }));
