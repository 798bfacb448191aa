/**
 * CenterNet (MobileNetV3, TF.js GraphModel from @vladmandic/human, 80 COCO class heat maps)
 * on a real photo of a dog, a bicycle and a truck (models/real/dog.jpg): the dog is
 * detected, and Grad-CAM of its detection (the pre-sigmoid `dog` heat map summed over the
 * detected box) puts its maximum and nearly all its mass inside that box.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openModelFile } from '../src/app/open-model.ts';
import { loadAll } from '../src/cli/load.ts';
import { readLabels } from '../src/cli/args.ts';
import { HUMAN_MODELS } from './tfjs-helpers.ts';

test('CenterNet: Grad-CAM for the dog channel over its detected box is highest inside that box', async () => {
  await using lens = await openModelFile(`${HUMAN_MODELS}/centernet.json`, { preset: 'raw', resize: 'stretch', labels: readLabels('models/real/coco.labels.txt')! });
  const photo = (await loadAll(lens, ['models/real/dog.jpg'])).tensor;
  const { outputs } = await lens.explainer.predict(photo);
  const detections = outputs['tower_0/detections']!;
  const dog = lens.spec.labels!.indexOf('dog');
  const k = Array.from({ length: detections.dims[1]! }, (_, i) => i).find((i) => detections.data[i * 6 + 5] === dog);
  assert.ok(k !== undefined && k < 3, `the dog is among the three best detections (found at ${k})`);
  const [x0, y0, x1, y1] = Array.from(detections.data.subarray(k * 6, k * 6 + 4));

  const [map] = await lens.explain(photo, 'grad-cam', { output: 'tower_0/keypoints', target: { detection: k } });
  assert.equal(map!.class, dog);
  const [h, w] = [map!.dims[0]!, map!.dims[1]!];
  let [inside, total, best, at] = [0, 0, -1, 0];
  for (let p = 0; p < h * w; p++) {
    const [y, x] = [Math.floor(p / w), p % w];
    const v = map!.values[p]!;
    total += v;
    if (x >= x0! && x < x1! && y >= y0! && y < y1!) inside += v;
    if (v > best) [best, at] = [v, p];
  }
  const [by, bx] = [Math.floor(at / w), at % w];
  assert.ok(bx >= x0! && bx < x1! && by >= y0! && by < y1!, `the maximum (${bx}, ${by}) is inside the dog's box [${x0}, ${y0}, ${x1}, ${y1}]`);
  // The box covers 15% of the image; the map's mass inside it:
  assert.ok(inside / total > 0.9, `${(100 * inside / total).toFixed(1)}% of the map inside the box`);
});
