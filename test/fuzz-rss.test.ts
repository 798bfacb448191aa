/**
 * Memory stays flat over 1,000 explains of the bundled model: after a warm-up, the
 * resident set may not grow by more than a generous margin (a leak of one input tensor
 * per explain, 3 KB, would already add 3 MB; a leaked session far more).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readModelFile } from '../src/model/file.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { bundledModelDir } from '../src/cli/commands/demo.ts';

test('RSS over 1,000 explains of the bundled model stays flat', { timeout: 600_000 }, async () => {
  const model = readModelFile(join(bundledModelDir, 'model.onnx'));
  await using explainer = await Explainer.create(model);
  const dims = [1, 1, 28, 28];
  const image = { data: Float32Array.from({ length: 784 }, (_, i) => (i % 29) / 29), dims };
  const methodsCycle = ['grad-cam', 'saliency', 'guided-backprop', 'integrated-gradients'];
  const run = async (i: number) => explainer.explain(image, methodsCycle[i % methodsCycle.length]!, { target: i % 10 });
  for (let i = 0; i < 100; i++) await run(i); // warm-up: sessions compiled, allocator pools filled
  globalThis.gc?.();
  const start = process.memoryUsage().rss;
  for (let i = 0; i < 1000; i++) await run(i);
  globalThis.gc?.();
  const growth = (process.memoryUsage().rss - start) / 1024 ** 2;
  console.log(`RSS growth over 1,000 explains: ${growth.toFixed(1)} MB`);
  assert.ok(growth < 60, `RSS grew by ${growth.toFixed(1)} MB`);
});
