/**
 * The convlens command end to end (spawned as a user would run it): files, the --raw
 * contract against the library, --json, folders equal per-image runs, and bad input
 * exiting 1 with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serializeModel } from '../src/model/model.ts';
import { encodeNpy, parseNpy } from '../src/runtime/npy.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { loadInputs } from '../src/input/load-input.ts';
import { zoo } from './zoo/models.ts';
import { fixture, relativeL2 } from './helpers.ts';

const bin = fileURLToPath(new URL('../bin/convlens.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'convlens-cli-'));
const modelPath = join(dir, 'tiny-resnet.onnx');
writeFileSync(modelPath, serializeModel(zoo['tiny-resnet']!.build()));
const images = join(dir, 'images');
mkdirSync(images);
for (const name of ['chelsea.jpg', 'coffee.jpg']) copyFileSync(fixture(`images/${name}`), join(images, name));

/** The command as a user runs it, with Node's own flags first (`nodeArgs`). */
function convlensWith(nodeArgs: string[], ...args: string[]) {
  const r = spawnSync(process.execPath, [...nodeArgs, bin, ...args], { encoding: 'utf8', env: { ...process.env, CONVLENS_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const convlens = (...args: string[]) => convlensWith([], ...args);

test('explain writes overlays, raw .npy equal to the library, and a self-contained report', async () => {
  const out = join(dir, 'out');
  const r = convlens('explain', modelPath, images, '-m', 'grad-cam,saliency,guided-backprop', '--preset', 'unit', '--raw', '-o', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { report: string; inputs: { name: string }[]; methods: { id: string }[] };
  assert.deepEqual(summary.inputs.map((i) => i.name), ['chelsea', 'coffee']);
  assert.deepEqual(summary.methods.map((m) => m.id), ['grad-cam', 'saliency', 'guided-backprop']);
  for (const stem of ['chelsea', 'coffee']) for (const m of ['grad-cam', 'saliency', 'guided-backprop']) assert.ok(existsSync(join(out, `${stem}.${m}.png`)), `${stem}.${m}.png`);
  // --raw: maps [H, W] in [0, 1]; gradient images [C, H, W] unnormalized; equal to the library.
  const loaded = await loadInputs([images], [1, 3, 32, 32], { preset: 'unit', resize: 'center-crop' });
  await using ex = await Explainer.create(zoo['tiny-resnet']!.build());
  for (const [method, field] of [['grad-cam', 'values'], ['guided-backprop', 'raw']] as const) {
    const lib = await ex.explain(loaded.tensor, method);
    for (const [i, stem] of ['chelsea', 'coffee'].entries()) {
      const npy = parseNpy(readFileSync(join(out, `${stem}.${method}.npy`)));
      assert.deepEqual(npy.dims, method === 'grad-cam' ? [32, 32] : [3, 32, 32]);
      assert.ok(relativeL2(npy.data, lib[i]![field]) < 1e-6, `${stem} ${method}`);
    }
  }
  const html = readFileSync(summary.report, 'utf8');
  assert.ok(!/src="(https?:|\/)/.test(html) && !/href="\//.test(html), 'no external sources (paper links open in a new tab)');
  const tags = html.match(/<img [^>]*src="([^"]*)"/g) ?? [];
  assert.equal(tags.length, 2 + 2 * 3, 'inputs + cells');
  assert.ok(tags.every((i) => i.includes('src="data:image/png;base64,')));
  for (const m of ['grad-cam', 'saliency', 'guided-backprop']) assert.ok(html.includes(m), m);
});

test('a folder gives the per-image results; .npy inputs are used as-is', async () => {
  const single = join(dir, 'single');
  assert.equal(convlens('explain', modelPath, join(images, 'coffee.jpg'), '-m', 'layer-cam', '--preset', 'unit', '--raw', '-o', single).code, 0);
  const folder = join(dir, 'folder');
  assert.equal(convlens('explain', modelPath, images, '-m', 'layer-cam', '--preset', 'unit', '--raw', '-o', folder, '--batch-size', '2').code, 0);
  const a = parseNpy(readFileSync(join(single, 'coffee.layer-cam.npy')));
  const b = parseNpy(readFileSync(join(folder, 'coffee.layer-cam.npy')));
  assert.ok(relativeL2(a.data, b.data) < 1e-6);
  // The same input as a preprocessed tensor.
  const loaded = await loadInputs([join(images, 'coffee.jpg')], [1, 3, 32, 32], { preset: 'unit', resize: 'center-crop' });
  writeFileSync(join(dir, 'coffee.npy'), encodeNpy(loaded.tensor));
  const fromNpy = join(dir, 'npy');
  assert.equal(convlens('explain', modelPath, join(dir, 'coffee.npy'), '-m', 'layer-cam', '--raw', '-o', fromNpy).code, 0);
  assert.ok(relativeL2(parseNpy(readFileSync(join(fromNpy, 'coffee.layer-cam.npy'))).data, a.data) < 1e-6);
});

test('bad input exits 1 with one line naming the problem', () => {
  writeFileSync(join(dir, 'corrupt.onnx'), readFileSync(modelPath).subarray(0, 200));
  writeFileSync(join(dir, 'wrong.npy'), encodeNpy({ data: new Float32Array(3 * 8 * 8), dims: [3, 8, 8] }));
  const cases: [string[], RegExp][] = [
    [['explain', join(dir, 'missing.onnx'), images], /does not exist/],
    [['explain', modelPath, join(dir, 'nothing.png')], /does not exist|no such/i],
    [['explain', modelPath, images, '-m', 'grad-cam-9000'], /unknown method 'grad-cam-9000' \(choices: .*grad-cam/],
    [['explain', modelPath, images, '--preset', 'unit', '-l', 'nope'], /no layer 'nope'/],
    [['explain', join(dir, 'corrupt.onnx'), images], /not a readable ONNX file|truncated|corrupt/],
    [['explain', modelPath, join(dir, 'wrong.npy')], /shape/],
    [['explain', modelPath, images, '--target', 'banana'], /class 'banana'/],
  ];
  for (const [args, message] of cases) {
    const r = convlens(...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('convlens:')).length, 1, r.stderr);
    assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
  }
});

test('predict, layers and doctor print parseable JSON', () => {
  const p = convlens('predict', modelPath, images, '--preset', 'unit', '--json', '-k', '3');
  assert.equal(p.code, 0, p.stderr);
  const predictions = JSON.parse(p.stdout) as { input: string; top: { probability: number }[] }[];
  assert.equal(predictions.length, 2);
  for (const x of predictions) {
    assert.equal(x.top.length, 3);
    assert.ok(x.top[0]!.probability >= x.top[1]!.probability);
  }
  const l = convlens('layers', modelPath, '--json');
  assert.equal(l.code, 0, l.stderr);
  assert.ok((JSON.parse(l.stdout) as { tensor: string }[]).some((x) => x.tensor === 'block2.relu'));
  const d = convlens('doctor', modelPath, '--json');
  assert.equal(d.code, 0, d.stderr);
  assert.ok((JSON.parse(d.stdout) as { families: { supported: boolean }[] }).families.every((f) => f.supported));
  const h = convlens('explain', '--help');
  assert.equal(h.code, 0);
  assert.match(h.stdout, /grad-cam-plus-plus/);
});

// A loader hook that fails any import of these packages: a command that needs one fails.
const heavyPackages = ['sharp', 'bullmq', 'ioredis', 'vega', 'vega-lite', '@dagrejs/dagre'];
const refuseHeavy = join(dir, 'refuse-heavy.mjs');
writeFileSync(
  refuseHeavy,
  `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`export async function resolve(specifier, context, next) {
  if (${JSON.stringify(heavyPackages)}.includes(specifier)) throw new Error('refused import: ' + specifier);
  return next(specifier, context);
}\`));
`,
);

test('commands that read no image, draw no figure and use no queue do not load sharp, vega, dagre, bullmq or ioredis', () => {
  const run = (...args: string[]) => convlensWith(['--import', refuseHeavy], ...args);
  for (const args of [['--help'], ['layers', modelPath], ['summary', modelPath], ['doctor', modelPath]]) {
    const r = run(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  // The hook does refuse: a command that reads an image fails at sharp's import.
  const p = run('predict', modelPath, images, '--preset', 'unit');
  assert.notEqual(p.code, 0);
  assert.match(p.stderr, /refused import: sharp/);
});

test('features and filters write one PNG per layer and report weight statistics', () => {
  const out = join(dir, 'inside');
  const f = convlens('features', modelPath, join(images, 'coffee.jpg'), '--preset', 'unit', '-l', 'block2.relu', '--top', '4', '-o', out, '--json');
  assert.equal(f.code, 0, f.stderr);
  const files = (JSON.parse(f.stdout) as { files: string[] }).files;
  assert.deepEqual(files.map((p) => p.split('/').pop()), ['coffee.features.block2.relu.png']);
  const w = convlens('filters', modelPath, '-o', out, '--json');
  assert.equal(w.code, 0, w.stderr);
  const report = JSON.parse(w.stdout) as { files: string[]; stats: { layer: string; count: number }[] };
  // tiny-resnet: 6 convs get kernel images; their 6 weights plus the Gemm get statistics.
  assert.equal(report.files.length, 6);
  assert.equal(report.stats.length, 7);
  assert.equal(report.stats.find((s) => s.layer === 'logits')?.count, 10 * 32);
  const bad = convlens('filters', modelPath, '-l', 'block2.relu');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /has no weights: choose one of/);
});

test('summary totals the parameters; graph writes an SVG with every layer', () => {
  const s = convlens('summary', modelPath, '--json');
  assert.equal(s.code, 0, s.stderr);
  const summary = JSON.parse(s.stdout) as { totals: { parameters: number } };
  const expected = zoo['tiny-resnet']!.build().graph!.initializer!.reduce((n, t) => n + (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1), 0);
  assert.equal(summary.totals.parameters, expected);
  const svgPath = join(dir, 'graph.svg');
  const g = convlens('graph', modelPath, '-o', svgPath);
  assert.equal(g.code, 0, g.stderr);
  const svg = readFileSync(svgPath, 'utf8');
  for (const name of ['stem.conv', 'block2.down.conv', 'logits']) assert.ok(svg.includes(name), name);
  assert.equal(convlens('graph', modelPath, '-o', join(dir, 'graph.txt')).code, 1);
});

test('maximize raises the class score; dream writes an image; a missing objective is a usage error', () => {
  const out = join(dir, 'max.png');
  const m = convlens('maximize', modelPath, '--class', '3', '--steps', '30', '--preset', 'unit', '-o', out);
  assert.equal(m.code, 0, m.stderr);
  const [from, to] = /objective (-?[\d.]+) -> (-?[\d.]+)/.exec(m.stdout)!.slice(1).map(Number) as [number, number];
  assert.ok(to > from, `objective ${from} -> ${to}`);
  assert.ok(readFileSync(out).subarray(1, 4).toString() === 'PNG');
  const d = convlens('dream', modelPath, join(images, 'coffee.jpg'), '-l', 'block1.relu', '--preset', 'unit', '--steps', '3', '-o', join(dir, 'dream.png'));
  assert.equal(d.code, 0, d.stderr);
  assert.ok(existsSync(join(dir, 'dream.png')));
  const none = convlens('maximize', modelPath);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /give an objective/);
});

test('the bundled model classifies its samples as their names say, and demo writes the report', () => {
  const labels = JSON.parse(readFileSync(new URL('../models/fashion-mnist/labels.json', import.meta.url), 'utf8')) as string[];
  const samples = fileURLToPath(new URL('../models/fashion-mnist/samples', import.meta.url));
  const model = fileURLToPath(new URL('../models/fashion-mnist/model.onnx', import.meta.url));
  // No flags: the preprocessing and labels come from the model's own metadata (convlens annotate).
  const p = convlens('predict', model, samples, '--json');
  assert.equal(p.code, 0, p.stderr);
  const predictions = JSON.parse(p.stdout) as { input: string; top: { class: number; label: string }[] }[];
  assert.equal(predictions.length, 8);
  for (const x of predictions) {
    const expected = Number(x.input.slice(0, 2));
    assert.equal(x.top[0]!.class, expected, `${x.input} is a ${labels[expected]}`);
    assert.equal(x.top[0]!.label, labels[expected]);
  }
  const out = join(dir, 'demo');
  const d = convlens('demo', '-m', 'grad-cam,guided-backprop', '-o', out);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /2 methods on 8 images; report: .*index\.html/);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.ok(html.includes('Ankle boot') && html.includes('guided-backprop'));
});
