/**
 * nsfwjs' MobileNetV2 (TF.js LayersModel, ImageNet-pretrained backbone, 5-class head) on a
 * real photo: every method of the registry (perturbation methods with coarse settings, the
 * channel-per-run CAMs on a 32-channel layer), the gradient against finite differences,
 * and batch == loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openModelFile } from '../src/app/open-model.ts';
import { loadAll } from '../src/cli/load.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { nsfwMobileNetV2 } from './tfjs-helpers.ts';
import { directionalError, everyMethod } from './real-models.ts';
import { relativeL2 } from './helpers.ts';

test('nsfwjs MobileNetV2: every method explains a photo; gradient = finite differences; batch = loop', async () => {
  await using lens = await openModelFile(nsfwMobileNetV2(), { preset: 'unit', resize: 'stretch', labels: ['drawing', 'hentai', 'neutral', 'porn', 'sexy'] });
  const photo = (await loadAll(lens, ['models/real/dog.jpg'])).tensor;
  const { top } = await lens.predict(photo);
  assert.equal(top[0]![0]!.label, 'neutral');
  const small = { layer: ['block_3_project_BN'] };
  const results = await everyMethod(lens, photo, 'neutral', {
    'integrated-gradients': { steps: 8 },
    smoothgrad: { samples: 4 },
    'smoothgrad-squared': { samples: 4 },
    vargrad: { samples: 4 },
    'gradient-shap': { samples: 4 },
    'deeplift-shap': { samples: 2 },
    occlusion: { window: 56, stride: 56 },
    'occlusion-probability': { window: 56, stride: 56 },
    rise: { masks: 32 },
    'score-cam': { targetLayers: small.layer },
    'ablation-cam': { targetLayers: small.layer },
  });
  assert.equal(results.get('grad-cam')!.layer, 'out_relu', 'the default layer is the last conv block, not a layout transpose');

  assert.ok(await directionalError(lens, photo, 2, 1e-3) < 0.02);

  const flipped = Float32Array.from(photo.data);
  flipped.reverse();
  const pair: Tensor = { data: Float32Array.from([...photo.data, ...flipped]), dims: [2, ...photo.dims.slice(1)] };
  const batch = await lens.explain(pair, 'grad-cam-plus-plus', { target: 'neutral' });
  assert.ok(relativeL2(batch[0]!.raw, results.get('grad-cam-plus-plus')!.raw) < 1e-4);
  const [single] = await lens.explain({ data: flipped, dims: photo.dims }, 'grad-cam-plus-plus', { target: 'neutral' });
  assert.ok(relativeL2(batch[1]!.raw, single!.raw) < 1e-4);
});
