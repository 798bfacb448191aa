/**
 * Standalone explainer graphs: run by a plain onnxruntime session (no convlens code), they
 * give the library's maps for the class fed as an int64 input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { serializeModel } from '../src/model/model.ts';
import { exportExplainer, exportableMethods, EXPLANATION, TARGET_CLASS } from '../src/export/explainer-graph.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { Rng } from '../src/runtime/rng.ts';
import { zoo } from './zoo/models.ts';
import { relativeL2 } from './helpers.ts';

for (const name of ['tiny-resnet', 'mobilenet-v2']) {
  test(`${name}: every exportable method's graph equals the library's result`, async () => {
    const entry = zoo[name]!;
    const model = entry.build();
    const rng = new Rng(17);
    const dims = entry.inputShape(2);
    const x = { data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.normal()), dims };
    const classes = [2, 8];
    await using ex = await Explainer.create(model);
    for (const method of exportableMethods) {
      const graph = await exportExplainer(model, { method, inputShape: dims, layer: entry.spatialLayer });
      const session = await ort.InferenceSession.create(serializeModel(graph));
      const out = await session.run({
        input: new ort.Tensor('float32', x.data, dims),
        [TARGET_CLASS]: new ort.Tensor('int64', BigInt64Array.from(classes, BigInt), [2]),
      });
      await session.release();
      const exported = out[EXPLANATION]!.data as Float32Array;
      const lib = await ex.explain(x, method, { target: classes, targetLayers: [entry.spatialLayer] });
      const expected = Float32Array.from(lib.flatMap((e) => Array.from(method === 'grad-cam' ? e.values : e.raw)));
      assert.equal(exported.length, expected.length, method);
      assert.ok(relativeL2(exported, expected) < 1e-4, `${method}: ${relativeL2(exported, expected)}`);
    }
  });
}

test('a method that is not a single graph is refused with the exportable list', async () => {
  await assert.rejects(exportExplainer(zoo['tiny-vgg']!.build(), { method: 'rise', inputShape: [1, 3, 32, 32] }), /'rise' cannot be exported.*grad-cam/);
});
