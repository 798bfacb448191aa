/**
 * Evaluation metrics' cost against the forward passes they need, on the ResNet-50-shaped
 * model (3x224x224, random weights), one image, Grad-CAM maps:
 * `node --import tsx bench/metrics-case.ts`. Each forward-pass metric's time is divided by
 * the time of the same number of rows run as plain inference in batches of 8, measured just
 * before it (RISE deletion and insertion: 225 rows; ROAD: 19 rows plus 18 imputations;
 * average drop: 2; infidelity: 11).
 * Prints one JSON line.
 */
import { resnet50, imagenetInputShape } from './models.ts';
import { Explainer } from '../src/methods/explainer.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { deletion, insertion } from '../src/metrics/causal.ts';
import { road } from '../src/metrics/road.ts';
import { confidenceChange } from '../src/metrics/confidence.ts';
import { infidelity } from '../src/metrics/infidelity.ts';
import { saliencyMap } from '../src/metrics/common.ts';
import { median, peakRssMb, timed } from './timing.ts';

const shape = imagenetInputShape(1);
const image: Tensor = { data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37)), dims: shape };
const explainer = await Explainer.create(resnet50(1));
const eight = imagenetInputShape(8);
const batch8: Tensor = { data: new Float32Array(eight.reduce((a, b) => a * b, 1)).map((_, i) => Math.cos(i)), dims: eight };
const result: Record<string, number> = {};
result['forward batch 8 ms'] = await median(() => explainer.engine.run(batch8, {}), { repeats: 3 });
const [e] = await explainer.explain(image, 'grad-cam', { target: 'auto' });
const input = { explainer, images: image, maps: [saliencyMap(e!)], classes: [e!.class!] };
const cases: [string, number, () => Promise<unknown>][] = [
  ['deletion', 225, () => deletion(input)],
  ['insertion', 225, () => insertion(input)],
  ['road', 19, () => road(input)],
  ['average-drop', 2, () => confidenceChange(input)],
  ['infidelity', 11, () => infidelity({ ...input, attributions: input.maps })],
];
/** `rows` rows of plain inference, 8 per run (the last run shorter), as the metrics batch them. */
const inference = async (rows: number) => {
  for (let from = 0; from < rows; from += 8) {
    const n = Math.min(8, rows - from);
    await explainer.engine.run(n === 8 ? batch8 : { data: batch8.data.subarray(0, n * 3 * 224 * 224), dims: imagenetInputShape(n) }, {});
  }
};
await deletion(input, { steps: 8 }); // warm-up: sessions for the chunk sizes used
for (const [name, rows, run] of cases) {
  const reference = (await timed(() => inference(rows))).ms;
  const { ms } = await timed(run);
  result[`${name} ms`] = ms;
  result[`${name} rows`] = rows;
  result[`${name} inference ms`] = reference;
  result[`${name} / forward`] = ms / reference;
  process.stderr.write(`  ${name}: ${ms.toFixed(0)} ms, ${result[`${name} / forward`]!.toFixed(2)}x of ${rows} rows\n`);
}
result['peak RSS MB'] = peakRssMb();
await explainer.release();
console.log(JSON.stringify({ result }));
