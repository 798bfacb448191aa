/**
 * Method timings on the ResNet-50-shaped model, in one process:
 * `node --import tsx bench/methods-case.ts BATCH`. Prints one JSON line: the forward pass
 * (batch BATCH and batch 8) and each method's median time.
 */
import { resnet50, imagenetInputShape } from './models.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { methods } from '../src/methods/registry.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { median, peakRssMb } from './timing.ts';

const batch = Number(process.argv[2] ?? 1);
const repeats = Number(process.env['BENCH_REPEATS'] ?? 5);
const shape = imagenetInputShape(batch);
const image: Tensor = { data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37)), dims: shape };

/** Method settings for the bench (perturbation sizes chosen to keep the run short). */
export const benchOptions: Record<string, Record<string, unknown>> = {
  smoothgrad: { samples: 25 },
  'integrated-gradients': { steps: 32 },
  occlusion: { window: 32, stride: 16 },
  'occlusion-probability': { window: 32, stride: 16 },
  rise: { masks: 256 },
};
/** Methods too slow to repeat at batch 8 on two cores (one run each at batch 1 only). */
const once = new Set(['score-cam', 'smoothgrad-squared', 'vargrad']);

const explainer = await Explainer.create(resnet50(1));
const result: Record<string, number> = {};
const forward = async (t: Tensor) => explainer.engine.run(t, {});
result['forward'] = await median(() => forward(image), { repeats });
const eight = imagenetInputShape(8);
const batch8: Tensor = { data: new Float32Array(eight.reduce((a, b) => a * b, 1)).map((_, i) => Math.cos(i)), dims: eight };
result['forward batch 8'] = await median(() => forward(batch8), { repeats: 3 });
// The relevance family has its own rows (bench/relevance-case.ts: one per LRP composite).
for (const id of methods.filter((m) => m.family !== 'relevance').map((m) => m.id)) {
  if (once.has(id) && batch > 1) continue;
  const options = { ...benchOptions[id], target: 'auto' as const, batchSize: 8 };
  const slow = once.has(id) || ['smoothgrad', 'integrated-gradients', 'occlusion', 'occlusion-probability', 'rise', 'ablation-cam'].includes(id);
  result[id] = await median(() => explainer.explain(image, id, options), slow ? { warmup: 1, repeats: 1 } : { repeats });
  process.stderr.write(`  ${id}: ${result[id]!.toFixed(0)} ms\n`);
}
// Rows of perturbed images each perturbation method runs per image (window 32, stride 16
// on 224: 13 x 13 positions, plus the unoccluded image; one per mask; one per channel).
const rows: Record<string, number> = { occlusion: 170, 'occlusion-probability': 170, rise: 256, 'score-cam': 2048 };
for (const [id, r] of Object.entries(rows)) if (result[id] !== undefined) result[`rows ${id}`] = r * batch;
result['peak RSS MB'] = peakRssMb();
await explainer.release();
console.log(JSON.stringify({ batch, result }));
