// `node --import tsx bench/new-cams-case.ts BATCH [PAIRS]`: each of the newer CAMs (issue:
// relevance propagation, item 8) against one forward pass of the same batch, measured as paired
// runs (forward, then the method, repeated) so that load changes on the shared machine hit
// both sides of each ratio; the median ratio of the pairs is reported.
import { resnet50, imagenetInputShape } from './models.ts';
import { Explainer } from '../src/methods/explainer.ts';
import type { Tensor } from '../src/runtime/session.ts';

const batch = Number(process.argv[2] ?? 1);
const pairs = Number(process.argv[3] ?? 7);
const shape = imagenetInputShape(batch);
const image: Tensor = { data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37)), dims: shape };
const explainer = await Explainer.create(resnet50(1));
const time = async (f: () => Promise<unknown>) => { const t0 = performance.now(); await f(); return performance.now() - t0; };
const forward = () => explainer.engine.run(image, {});
const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const result: Record<string, number> = {};
for (const id of ['grad-cam', 'grad-cam-elementwise', 'finer-cam', 'full-grad']) {
  const run = () => explainer.explain(image, id, { target: 'auto', batchSize: 8 });
  await forward(); await run(); await run();
  const ratios: number[] = [], ms: number[] = [], fw: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const f = await time(forward);
    const m = await time(run);
    ratios.push(m / f); ms.push(m); fw.push(f);
  }
  result[id] = med(ratios);
  result[`${id} ms`] = med(ms);
  result[`${id} forward ms`] = med(fw);
  process.stderr.write(`  b${batch} ${id}: ${med(ratios).toFixed(2)}x (${med(ms).toFixed(0)} ms; forward ${med(fw).toFixed(0)} ms)\n`);
}
await explainer.release();
console.log(JSON.stringify({ batch, result }));
