/**
 * The plain forward as a fresh process, the least a user's own script does to classify a
 * folder: onnxruntime-node and sharp, one session (default options), each batch of 8 PNGs
 * decoded together, normalized with ImageNet statistics into NCHW, run. Plain JavaScript
 * (no TypeScript loader), so its start-up is Node's own. The whole-process bench
 * (pipeline-case.ts) times it beside `convlens explain`. With --optimized, MODEL is a graph
 * onnxruntime saved as it optimized it, loaded with optimization off as convlens loads its
 * cached graphs: the least a fresh process pays for the forward when nothing is optimized
 * at start-up.
 *
 *   node bench/forward-process.mjs MODEL.onnx FOLDER [--optimized]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';

const [model, folder, flag] = process.argv.slice(2);
const session = await ort.InferenceSession.create(model, flag === '--optimized' ? { graphOptimizationLevel: 'disabled' } : {});
const files = readdirSync(folder).filter((f) => f.endsWith('.png')).sort();
const mean = [0.485, 0.456, 0.406];
const std = [0.229, 0.224, 0.225];
const size = 224 * 224;
for (let first = 0; first < files.length; first += 8) {
  const batch = files.slice(first, first + 8);
  const pixels = await Promise.all(batch.map((f) => sharp(join(folder, f)).removeAlpha().raw().toBuffer()));
  const data = new Float32Array(batch.length * 3 * size);
  pixels.forEach((px, n) => {
    for (let c = 0; c < 3; c++) {
      const at = (n * 3 + c) * size;
      for (let p = 0; p < size; p++) data[at + p] = (px[3 * p + c] / 255 - mean[c]) / std[c];
    }
  });
  await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, [batch.length, 3, 224, 224]) });
}
await session.release();
