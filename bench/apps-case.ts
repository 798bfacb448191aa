/**
 * Measurements of the inspection tools, the CLI and the web explorer, in one process:
 * `node --import tsx bench/apps-case.ts`. Prints one JSON line.
 * - feature visualization: time per optimization step / one forward+backward (ResNet-50);
 * - feature-map grids of every spatial layer of ResNet-50 / one forward pass;
 * - `explain -m grad-cam` on 64 images of the bundled model: images per second, and the
 *   ratio to plain batched inference of the same images;
 * - `convlens demo` wall time (a new process, as a user runs it);
 * - the explorer's server time for a grad-cam request (bundled model and ResNet-50).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resnet50, imagenetInputShape } from './models.ts';
import { GradientEngine } from '../src/autodiff/engine.ts';
import { classModel, visualize } from '../src/optvis/optimize.ts';
import { classLogit } from '../src/optvis/objectives.ts';
import { fourier } from '../src/optvis/parameterizations.ts';
import { standardTransforms } from '../src/optvis/transforms.ts';
import { featureMaps, makeGrid, renderGrid } from '../src/inspect/feature-maps.ts';
import { spatialLayers } from '../src/targets/layers.ts';
import { runExplain } from '../src/cli/run-explain.ts';
import { bundledModelDir } from '../src/cli/commands/demo.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { loadInputs } from '../src/input/load-input.ts';
import { serializeModel } from '../src/model/model.ts';
import { startServer } from '../src/web/server.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { median, timed } from './timing.ts';

const result: Record<string, number> = {};
const shape = imagenetInputShape(1);
const image: Tensor = { data: Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.37)), dims: shape };
const weight: Tensor = { data: new Float32Array(1000), dims: [1, 1000] };
weight.data[3] = 1;
const model = resnet50(1);

{
  await using engine = new GradientEngine(model);
  const fb = () => engine.run(image, { wrt: ['input'] }, weight);
  const forward = () => engine.run(image, {});
  result['resnet50 forward ms'] = await median(forward);
  result['resnet50 forward+backward ms'] = await median(fb);
  const steps = 12;
  await classModel(engine, 3, { steps: 2, inputShape: shape });
  const simonyan = await timed(() => classModel(engine, 3, { steps, inputShape: shape }));
  result['class model step / forward+backward'] = simonyan.ms / steps / result['resnet50 forward+backward ms']!;
  const lucid = await timed(() => visualize(engine, { objective: classLogit(3), parameterization: fourier(), transforms: standardTransforms(), steps, inputShape: shape }));
  result['fourier + transforms step / forward+backward'] = lucid.ms / steps / result['resnet50 forward+backward ms']!;
  const layers = spatialLayers(await engine.specialize(shape)).map((l) => l.tensor);
  await featureMaps(engine, image, layers);
  const grids = await timed(async () => {
    for (const set of await featureMaps(engine, image, layers)) renderGrid(makeGrid(set.maps));
  });
  result['feature grids of every layer / forward'] = grids.ms / result['resnet50 forward ms']!;
  result['feature grid layers'] = layers.length;
}

// The bundled model: 64 images (the samples, repeated) through explain and through predict.
const samples = join(bundledModelDir, 'samples');
const folder = mkdtempSync(join(tmpdir(), 'convlens-bench-'));
mkdirSync(join(folder, 'images'));
const files = readdirSync(samples).sort();
for (let i = 0; i < 64; i++) copyFileSync(join(samples, files[i % files.length]!), join(folder, 'images', `${String(i).padStart(2, '0')}-${files[i % files.length]}`));
const meta = JSON.parse(readFileSync(join(bundledModelDir, 'meta.json'), 'utf8')) as { preset: string };
const job = { model: join(bundledModelDir, 'model.onnx'), inputs: [join(folder, 'images')], methods: ['grad-cam'], out: join(folder, 'out'), preset: meta.preset, resize: 'stretch' as const, raw: false, colormap: 'jet' as const, alpha: 0.5, options: { batchSize: 64 } };
await runExplain(job);
const explainMs = await median(() => runExplain(job), { warmup: 0, repeats: 3 });
const loaded = await loadInputs([join(folder, 'images')], [1, 1, 28, 28], { preset: meta.preset, resize: 'stretch' });
{
  await using ex = await Explainer.create(await import('../src/model/file.ts').then((m) => m.readModelFile(job.model)));
  await ex.predict(loaded.tensor);
  const inferMs = await median(() => ex.predict(loaded.tensor));
  const mapsMs = await median(() => ex.explain(loaded.tensor, 'grad-cam', { batchSize: 64 }));
  result['explain grad-cam 64 images/s (whole command: decode, maps, PNGs, report)'] = 64 / (explainMs / 1000);
  result['grad-cam maps 64 images/s'] = 64 / (mapsMs / 1000);
  result['inference 64 images/s'] = 64 / (inferMs / 1000);
}
const demo = await timed(async () => execFileSync(process.execPath, ['bin/convlens.js', 'demo', '-o', join(folder, 'demo')], { stdio: 'ignore' }));
result['demo wall s'] = demo.ms / 1000;

// The explorer: POST an image, then grad-cam twice (the first compiles).
async function serverGradCam(bytes: Uint8Array, name: string, imageFile: string): Promise<number[]> {
  const served = await startServer({ model: { bytes, settings: { name } }, port: 0, log: () => {} });
  try {
    // The server takes JSON only with its content type (and images as raw bytes); a failed request must not be timed as a result.
    const post = async (path: string, body: BodyInit) => {
      const r = await fetch(new URL(path, served.url), { method: 'POST', body, ...(typeof body === 'string' ? { headers: { 'content-type': 'application/json' } } : {}) });
      const json = (await r.json()) as Record<string, unknown>;
      if (!r.ok) throw new Error(`${path}: ${r.status} ${String(json['error'])}`);
      return json;
    };
    const { id } = (await post('/api/images?name=x', new Uint8Array(readFileSync(imageFile)))) as { id: string };
    const times: number[] = [];
    for (const target of [0, 1, 2, 3]) {
      const t0 = performance.now();
      await post('/api/explain', JSON.stringify({ image: id, method: 'grad-cam', target }));
      times.push(performance.now() - t0);
    }
    return times;
  } finally {
    await served.close();
  }
}
const bundledTimes = await serverGradCam(new Uint8Array(readFileSync(job.model)), 'fashion-mnist', join(samples, files[0]!));
result['server grad-cam bundled first ms'] = bundledTimes[0]!;
result['server grad-cam bundled ms'] = Math.min(...bundledTimes.slice(1));
const resnetTimes = await serverGradCam(serializeModel(model), 'resnet50', 'test/fixtures/images/chelsea.jpg');
result['server grad-cam resnet50 first ms'] = resnetTimes[0]!;
result['server grad-cam resnet50 ms'] = Math.min(...resnetTimes.slice(1));
console.log(JSON.stringify({ result }));
