/**
 * Agreement with PyTorch autograd (float64) and Captum's GuidedBackprop/Deconvolution on
 * three models exported by torch.onnx.export (see fixtures/reference/PROVENANCE.md).
 * A careful float32 implementation agrees within 1e-3 relative L2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { readModelFile } from '../src/model/file.ts';
import { compile } from '../src/autodiff/compile.ts';
import { Session } from '../src/runtime/session.ts';
import { fixture, oneHot, readNpy, relativeL2 } from './helpers.ts';

const cases = ['tiny-vgg', 'alexnetish', 'dense-se'];
const ruleRefs = [
  ['gradient', 'gradient'],
  ['guided', 'guided-backprop'],
  ['deconvnet', 'deconvnet'],
] as const;

for (const name of cases) {
  const dir = fixture(`reference/${name}`);
  const meta = JSON.parse(readFileSync(`${dir}/meta.json`, 'utf8')) as { target: number; logits: number[] };
  for (const [rules, ref] of ruleRefs) {
    const refPath = `${dir}/ref.${ref}.npy`;
    if (!existsSync(refPath)) continue;
    test(`${name}: ${rules} rules match ${ref} from PyTorch/Captum`, async () => {
      const model = readModelFile(`${dir}/model.onnx`);
      const x = readNpy(`${dir}/input.npy`);
      const compiled = await compile(model, { inputShape: x.dims, wrt: ['input'], rules });
      const session = await Session.create(compiled.model);
      try {
        const out = await session.run({ input: x, [compiled.targetWeight]: oneHot(compiled.targetShape, [meta.target]) });
        const logits = out['logits']!.data as Float32Array;
        assert.ok(relativeL2(logits, meta.logits) < 1e-5, 'forward logits agree');
        const grad = out[compiled.gradients['input']!]!.data as Float32Array;
        const expected = readNpy(refPath);
        assert.deepEqual(expected.dims.slice(-3), x.dims.slice(1));
        const err = relativeL2(grad, expected.data);
        assert.ok(err < 1e-3, `relative L2 ${err}`);
      } finally {
        await session.release();
      }
    });
  }
}

test('guided and deconvnet differ from the plain gradient on the same model', async () => {
  const dir = fixture('reference/tiny-vgg');
  const g = readNpy(`${dir}/ref.gradient.npy`).data;
  for (const ref of ['guided-backprop', 'deconvnet']) {
    const r = readNpy(`${dir}/ref.${ref}.npy`).data;
    assert.ok(relativeL2(r, g) > 0.1, `${ref} is not the gradient`);
  }
});
