/**
 * The human emotion CNN (mini-Xception, TF.js GraphModel from @vladmandic/human, imported to
 * ONNX) on a real face (NASA's portrait of Eileen Collins, models/real/): the prediction,
 * every method of the registry, the gradient against finite differences, batch == loop, and
 * CAM (identity head of this all-convolutional classifier) equal to Grad-CAM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openModelFile } from '../src/app/open-model.ts';
import { loadAll } from '../src/cli/load.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { HUMAN_MODELS } from './tfjs-helpers.ts';
import { directionalError, everyMethod } from './real-models.ts';
import { relativeL2 } from './helpers.ts';

const LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

test('emotion CNN on a smiling face: happy; every method explains it; gradient = finite differences; batch = loop; CAM = Grad-CAM', async () => {
  await using lens = await openModelFile(`${HUMAN_MODELS}/emotion.json`, { preset: 'tf', resize: 'stretch', labels: LABELS });
  const face = (await loadAll(lens, ['models/real/astronaut-face.jpg'])).tensor;
  const { top } = await lens.predict(face);
  assert.equal(top[0]![0]!.label, 'happy');
  assert.ok(top[0]![0]!.probability > 0.9, `happy at ${top[0]![0]!.probability}`);

  const results = await everyMethod(lens, face, 'happy', {
    'integrated-gradients': { steps: 16 },
    occlusion: { window: 16, stride: 8 },
    'occlusion-probability': { window: 16, stride: 8 },
    rise: { masks: 64 },
  });
  // The head is conv (7 class maps) -> global average pooling -> softmax: CAM's weights are the
  // identity (CAM = the class map A_c), and Grad-CAM's are 1/(H W) on the class channel:
  // Grad-CAM = ReLU(A_c) / (H W) at the layer's 8x8.
  const cam = results.get('cam')!.raw;
  assert.equal(cam.length, 64);
  assert.ok(relativeL2(results.get('grad-cam')!.raw, cam.map((v) => Math.max(v, 0) / 64)) < 1e-5);

  assert.ok(await directionalError(lens, face, 3, 1e-3) < 0.02);

  // The mirrored face as a second image: a batch of two equals two single runs.
  const [h, w] = [face.dims[1]!, face.dims[2]!];
  const mirrored = Float32Array.from({ length: h * w }, (_, p) => face.data[Math.floor(p / w) * w + (w - 1 - (p % w))]!);
  const pair: Tensor = { data: Float32Array.from([...face.data, ...mirrored]), dims: [2, h, w, 1] };
  const batch = await lens.explain(pair, 'integrated-gradients', { target: 'happy', steps: 16 });
  const single = await lens.explain({ data: mirrored, dims: [1, h, w, 1] }, 'integrated-gradients', { target: 'happy', steps: 16 });
  assert.ok(relativeL2(batch[1]!.raw, single[0]!.raw) < 1e-5);
  assert.ok(relativeL2(batch[0]!.raw, results.get('integrated-gradients')!.raw) < 1e-5);
});
