/**
 * The streaming explain pipeline (src/app): streamed output equals the all-at-once library
 * output; a partial last batch reuses the full batch's compiled graph; model metadata
 * round-trips through `convlens annotate`; cancelling stops a long occlusion within one
 * batch; --skip-existing after an interrupted run writes only what is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { serializeModel } from '../src/model/model.ts';
import { parseNpy } from '../src/runtime/npy.ts';
import { Lens } from '../src/app/lens.ts';
import { openModelFile } from '../src/app/open-model.ts';
import { explainRun, type ExplainRunOptions } from '../src/app/explain-run.ts';
import { CancelledError } from '../src/methods/context.ts';
import { loadInputs } from '../src/input/load-input.ts';
import { Rng } from '../src/runtime/rng.ts';
import { zoo } from './zoo/models.ts';
import { fixture, relativeL2 } from './helpers.ts';

const bin = fileURLToPath(new URL('../bin/convlens.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'convlens-pipeline-'));
const images = join(dir, 'images');
mkdirSync(images);
// Five inputs: with batch size 2 the last batch is partial.
const names = ['a', 'b', 'c', 'd', 'e'];
for (const [i, name] of names.entries()) copyFileSync(fixture(`images/${i % 2 ? 'chelsea' : 'coffee'}.jpg`), join(images, `${name}.jpg`));
const spec = { preset: 'unit', resize: 'stretch' as const };

const run = (out: string, extra: Partial<ExplainRunOptions> = {}): ExplainRunOptions => ({
  methods: ['grad-cam', 'guided-backprop'],
  out,
  raw: true,
  colormap: 'jet',
  alpha: 0.5,
  options: { batchSize: 2 },
  ...extra,
});

test('streamed in batches of 2 equals the library on all images at once; the partial last batch does not recompile', async () => {
  await using lens = await Lens.open(zoo['tiny-vgg']!.build(), spec);
  const out = join(dir, 'streamed');
  const summary = await explainRun(lens, [images], run(out));
  assert.deepEqual(summary.inputs.map((i) => i.name), names);
  // 3 batches (2, 2, 1) x 2 methods: one compiled graph per method request, none for the partial batch.
  const counts = { ...lens.explainer.engine.counts };
  const loaded = await loadInputs([images], [1, 3, 32, 32], spec);
  await using whole = await Lens.open(zoo['tiny-vgg']!.build(), spec);
  for (const [method, field] of [['grad-cam', 'values'], ['guided-backprop', 'raw']] as const) {
    const all = await whole.explain(loaded.tensor, method);
    for (const [i, name] of names.entries()) {
      const npy = parseNpy(readFileSync(join(out, `${name}.${method}.npy`)));
      assert.ok(relativeL2(npy.data, all[i]![field]) < 1e-5, `${name} ${method}`);
    }
  }
  // Top classes come from the same runs and equal a plain predict of the same images.
  const predicted = await whole.predict(loaded.tensor);
  assert.deepEqual(summary.inputs.map((i) => i.top[0]!.class), predicted.top.map((t) => t[0]!.class));
  // One more batch of 1 on the same lens reuses the batch-2 graphs (padded): no new compile.
  await lens.explainBatch({ data: loaded.tensor.data.slice(0, 3 * 32 * 32), dims: [1, 3, 32, 32] }, ['grad-cam', 'guided-backprop'], { batchSize: 2 });
  assert.deepEqual(lens.explainer.engine.counts, counts);
  assert.equal(counts.specializations, 2, 'batch 1 (layers) and batch 2');
});

test('the input copy is the file itself only when it is a PNG showing exactly what the model sees', async () => {
  const folder = join(dir, 'copies');
  mkdirSync(folder);
  const rng = new Rng(3);
  const png = (w: number, h: number, channels: 3 | 4) => sharp(Uint8Array.from({ length: w * h * channels }, (_, i) => (channels === 4 && i % 4 === 3 ? 128 : Math.floor(rng.uniform() * 256))), { raw: { width: w, height: h, channels } }).png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer(); // not convlens' own settings: a new encoding differs
  writeFileSync(join(folder, 'plain.png'), await png(32, 32, 3));
  writeFileSync(join(folder, 'transparent.png'), await png(32, 32, 4));
  writeFileSync(join(folder, 'larger.png'), await png(40, 40, 3));
  copyFileSync(fixture('images/coffee.jpg'), join(folder, 'photo.jpg'));
  await using lens = await Lens.open(zoo['tiny-vgg']!.build(), spec);
  const out = join(dir, 'copies-out');
  await explainRun(lens, [folder], run(out, { methods: ['grad-cam'], raw: false }));
  const loaded = await loadInputs([folder], [1, 3, 32, 32], spec);
  for (const [i, name] of loaded.names.entries()) {
    const written = readFileSync(join(out, `${name}.input.png`));
    const source = readFileSync(join(folder, readdirSync(folder).find((f) => f.startsWith(`${name}.`))!));
    assert.equal(written.equals(source), name === 'plain', `${name}: the copy is the file itself`);
    // Either way the copy shows the image the model saw.
    const { data } = await sharp(written).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual(new Uint8Array(data), new Uint8Array(loaded.images[i]!.data), `${name}: the copy's pixels`);
  }
});

test('cancel stops a long occlusion within one batch and keeps what was written', async () => {
  await using lens = await Lens.open(zoo['tiny-vgg']!.build(), spec);
  const x = new Rng(3);
  const image = { data: Float32Array.from({ length: 3 * 32 * 32 }, () => x.uniform()), dims: [1, 3, 32, 32] };
  const abort = new AbortController();
  let calls = 0;
  let atAbort = 0;
  await assert.rejects(
    lens.explain(image, 'occlusion', { window: 4, stride: 1, batchSize: 8 }, {
      signal: abort.signal,
      onProgress: (f) => {
        calls++;
        if (f >= 0.1 && !abort.signal.aborted) {
          atAbort = calls;
          abort.abort();
        }
      },
    }),
    CancelledError,
  );
  assert.ok(atAbort > 0, 'progress was reported');
  assert.equal(calls, atAbort, 'no batch ran after the cancel');
});

test('--skip-existing after an interrupted run writes only the missing outputs', async () => {
  await using lens = await Lens.open(zoo['tiny-vgg']!.build(), spec);
  const out = join(dir, 'resumed');
  const abort = new AbortController();
  // Interrupt once the first batch (a, b) has been written.
  await assert.rejects(
    explainRun(lens, [images], run(out, { signal: abort.signal, onProgress: (f) => f >= 0.4 && abort.abort() })),
    CancelledError,
  );
  const written = readdirSync(out).filter((f) => f.endsWith('.npy')).sort();
  assert.deepEqual(written, ['a.grad-cam.npy', 'a.guided-backprop.npy', 'b.grad-cam.npy', 'b.guided-backprop.npy']);
  const imgTags = (html: string) => (html.match(/<img /g) ?? []).length;
  assert.equal(imgTags(readFileSync(join(out, 'index.html'), 'utf8')), 2 * 3, 'the report shows what was written (input + 2 maps each)');
  const resumed = await explainRun(lens, [images], run(out, { skipExisting: true }));
  assert.equal(resumed.existing, 2);
  assert.deepEqual(resumed.files.filter((f) => f.endsWith('.npy')).map((f) => f.split('/').pop()!.split('.')[0]).sort(), ['c', 'c', 'd', 'd', 'e', 'e']);
  assert.equal(imgTags(readFileSync(resumed.report, 'utf8')), 5 * 3, 'the report shows both runs');
  assert.equal(readdirSync(out).filter((f) => f.includes('.tmp-')).length, 0, 'no partial files');
});

test('annotate -> predict: the model carries its preprocessing and labels; a sidecar and flags override', () => {
  const convlens = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  const model = join(dir, 'annotated.onnx');
  writeFileSync(model, serializeModel(zoo['tiny-vgg']!.build()));
  const labels = join(dir, 'labels.txt');
  writeFileSync(labels, Array.from({ length: 10 }, (_, i) => `thing ${i}`).join('\n'));
  const image = join(images, 'a.jpg');
  const predict = (...flags: string[]) => {
    const r = convlens('predict', model, image, '--json', ...flags);
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { top: { class: number; label: string; probability: number }[] }[])[0]!.top;
  };
  const before = predict('--preset', 'unit', '--resize', 'stretch');
  assert.match(before[0]!.label, /^class \d$/);
  const a = convlens('annotate', model, '--preset', 'unit', '--resize', 'stretch', '--labels', labels, '--name', 'Tiny VGG');
  assert.equal(a.status, 0, a.stderr);
  const shown = convlens('annotate', model, '--json');
  assert.equal(shown.status, 0, shown.stderr);
  assert.deepEqual(JSON.parse(shown.stdout), { name: 'Tiny VGG', preset: 'unit', resize: 'stretch', labels: Array.from({ length: 10 }, (_, i) => `thing ${i}`) });
  // No flags now: same preprocessing (same probabilities) and the labels.
  const after = predict();
  assert.deepEqual(after.map((t) => [t.class, t.probability]), before.map((t) => [t.class, t.probability]));
  assert.equal(after[0]!.label, `thing ${after[0]!.class}`);
  // The sidecar wins over the metadata; a flag wins over both.
  writeFileSync(join(dir, 'annotated.convlens.json'), JSON.stringify({ preset: 'imagenet' }));
  const sidecar = predict();
  assert.notDeepEqual(sidecar.map((t) => t.probability), after.map((t) => t.probability));
  assert.deepEqual(predict('--preset', 'unit').map((t) => t.probability), after.map((t) => t.probability));
  writeFileSync(join(dir, 'annotated.convlens.json'), '{ not json');
  const bad = convlens('predict', model, image);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^convlens: sidecar '.*annotated\.convlens\.json' is not valid JSON/);
});

test('openModelFile reads the annotated bundled model: 1-channel unit preset, stretch, its labels', async () => {
  const path = fileURLToPath(new URL('../models/fashion-mnist/model.onnx', import.meta.url));
  await using lens = await openModelFile(path);
  assert.equal(lens.spec.preset, 'unit');
  assert.equal(lens.spec.resize, 'stretch');
  assert.deepEqual(lens.spec.sources, { preset: 'model', resize: 'model', labels: 'model' });
  assert.equal(lens.labelOf(9), 'Ankle boot');
  assert.deepEqual(lens.warnings, []);
  // ImageNet statistics on a 1-channel input are allowed but warned about.
  await using forced = await openModelFile(path, { preset: 'imagenet' });
  assert.equal(forced.warnings.length, 1);
  assert.match(forced.warnings[0]!, /imagenet/i);
});
