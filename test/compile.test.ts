/**
 * The compiler as a whole: standalone export, batches, caching, and the errors that bad
 * input must produce (each names the problem and the fix).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readModelFile } from '../src/model/file.ts';
import { parseModel, serializeModel } from '../src/model/model.ts';
import { compile } from '../src/autodiff/compile.ts';
import { GradientEngine } from '../src/autodiff/engine.ts';
import { check } from '../src/inspect/doctor.ts';
import type { ModelProto } from '../src/model/onnx-proto.ts';
import { fixture, floatInitializer, oneHot, readNpy, relativeL2, valueInfo } from './helpers.ts';
import { zoo } from './zoo/models.ts';
import { Rng } from '../src/runtime/rng.ts';
import { readTensorProto } from '../src/model/tensor-data.ts';

const vggPath = fixture('reference/tiny-vgg/model.onnx');
const vggInput = () => readNpy(fixture('reference/tiny-vgg/input.npy'));
const tmp = mkdtempSync(join(tmpdir(), 'convlens-test-'));

/** y = Sin(Relu(x)) -> Gemm: an op with no rule on the path. */
function modelWithSin(): ModelProto {
  const w = new Float32Array(4 * 2).map((_, i) => (i % 3) - 1);
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'sin',
      node: [
        { name: 'relu', opType: 'Relu', input: ['x'], output: ['r'] },
        { name: 'the_sin', opType: 'Sin', input: ['r'], output: ['s'] },
        { name: 'fc', opType: 'Gemm', input: ['s', 'w'], output: ['y'] },
      ],
      initializer: [floatInitializer('w', [4, 2], w)],
      input: [valueInfo('x', [1, 4])],
      output: [valueInfo('y', [1, 2])],
    },
  };
}

test('a compiled graph saved as .onnx runs in a plain onnxruntime session', async () => {
  const x = vggInput();
  const compiled = await compile(readModelFile(vggPath), { inputShape: x.dims, wrt: ['input'] });
  const path = join(tmp, 'explainer.onnx');
  writeFileSync(path, serializeModel(compiled.model));
  const session = await ort.InferenceSession.create(path);
  const w = oneHot(compiled.targetShape, [7]);
  const out = await session.run({
    input: new ort.Tensor('float32', x.data, x.dims),
    [compiled.targetWeight]: new ort.Tensor('float32', w.data, w.dims),
  });
  const grad = out[compiled.gradients['input']!]!.data as Float32Array;
  const expected = readNpy(fixture('reference/tiny-vgg/ref.gradient.npy'));
  assert.ok(relativeL2(grad, expected.data) < 1e-3);
  await session.release();
});

test('a batch gives the same gradients as a loop over its images, per-image targets', async () => {
  const model = readModelFile(vggPath);
  const one = vggInput();
  const n = 3;
  const batch = new Float32Array(one.data.length * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < one.data.length; j++) batch[i * one.data.length + j] = one.data[j]! * (1 + 0.5 * i) - 0.1 * i;
  const targets = [7, 2, 5];
  await using engine = new GradientEngine(model);
  const all = await engine.run({ data: batch, dims: [n, ...one.dims.slice(1)] }, { wrt: ['input'] }, oneHot([n, 10], targets));
  const size = one.data.length;
  for (let i = 0; i < n; i++) {
    const single = await engine.run({ data: batch.slice(i * size, (i + 1) * size), dims: one.dims }, { wrt: ['input'] }, oneHot([1, 10], [targets[i]!]));
    const part = all.gradients['input']!.data.subarray(i * size, (i + 1) * size);
    assert.ok(relativeL2(part, single.gradients['input']!.data) < 1e-6, `image ${i}`);
  }
});

test('the engine caches one session per shape and request, and releases them', async () => {
  const engine = new GradientEngine(readModelFile(vggPath), { capacity: 2 });
  const x = vggInput();
  const w = oneHot([1, 10], [0]);
  const a = await engine.compiled(x.dims, { wrt: ['input'] });
  const b = await engine.compiled(x.dims, { wrt: ['input'] });
  assert.equal(a.session, b.session);
  await engine.run(x, { wrt: ['input'], rules: 'guided' }, w);
  await engine.run(x, { wrt: ['input'], rules: 'deconvnet' }, w);
  // Capacity 2: the first session was evicted and released.
  await assert.rejects(a.session.run({}), /released/);
  await engine.release();
});

test('bad model files give errors that name the problem and the fix', () => {
  const bytes = readFileSync(vggPath);
  assert.throws(() => parseModel(new Uint8Array(0)), /empty/);
  assert.throws(() => parseModel(bytes.subarray(0, bytes.length >> 1)), /truncated|corrupt/);
  assert.throws(() => parseModel(new TextEncoder().encode('this is not a model, just some text')), /not (a readable ONNX file|an ONNX model)/);
  assert.throws(() => readModelFile(join(tmp, 'missing.onnx')), /does not exist/);
  const old = parseModel(bytes);
  old.opsetImport = [{ domain: '', version: 7 }];
  assert.throws(() => parseModel(serializeModel(old)), /opset 7.*re-export/);
});

test('wrong image sizes, fixed batches and unknown tensors are clear errors', async () => {
  const model = readModelFile(vggPath);
  await assert.rejects(compile(model, { inputShape: [1, 3, 64, 64], wrt: ['input'] }), /takes shape \[1, 3, 32, 32\].*resize/);
  await assert.rejects(compile(model, { inputShape: [1, 3, 32, 32], wrt: ['/features/features.8/Relu'] }), /node name; use its output tensor '\/features\/features.8\/Relu_output_0'/);
  await assert.rejects(compile(model, { inputShape: [1, 3, 32, 32], wrt: ['features.8'] }), /no tensor 'features.8'.*did you mean/);
  await assert.rejects(compile(model, { inputShape: [1, 3, 32, 32], output: 'probs', wrt: ['input'] }), /no output 'probs' \(outputs: logits\)/);
  const lrn = readModelFile(fixture('reference/alexnetish/model.onnx'));
  await assert.rejects(compile(lrn, { inputShape: [2, 3, 64, 64], wrt: ['input'] }), /fixed batch size|exported for/);
});

test('an op without a rule on the path fails with its type, node name and the supported list', async () => {
  await assert.rejects(compile(modelWithSin(), { inputShape: [1, 4], wrt: ['x'] }), (e: Error) => {
    assert.match(e.message, /op Sin \(node 'the_sin'\)/);
    assert.match(e.message, /Supported: .*Conv.*MaxPool/);
    return true;
  });
  // Differentiating only after the Sin needs no rule for it.
  const ok = await compile(modelWithSin(), { inputShape: [1, 4], wrt: ['s'] });
  assert.ok(ok.gradients['s']);
});

test('check() reports ops and the method families a model supports, with reasons', async () => {
  const report = await check(readModelFile(fixture('reference/dense-se/model.onnx')));
  assert.deepEqual(report.families.map((f) => [f.family, f.supported]), [
    ['forward', true], ['input-gradient', true], ['layer-gradient', true], ['guided', true], ['deconvnet', true],
  ]);
  assert.equal(report.ops.find((o) => o.op === 'HardSigmoid')?.status, 'gradient');
  const sin = await check(modelWithSin());
  assert.equal(sin.ops.find((o) => o.op === 'Sin')?.status, 'unsupported');
  const inputGradient = sin.families.find((f) => f.family === 'input-gradient')!;
  assert.equal(inputGradient.supported, false);
  assert.match(inputGradient.reason!, /Sin/);
});

test("targetWeight 'argmax' differentiates each image's predicted class inside the graph", async () => {
  await using engine = new GradientEngine(readModelFile(vggPath));
  const one = vggInput();
  // Four variants of the image: at least two predicted classes differ (asserted below).
  const variants = [1, -1, 3, -3].map((k) => one.data.map((v, i) => k * v + 0.5 * Math.sin(i * k)));
  const x = { data: Float32Array.from(variants.flatMap((v) => Array.from(v))), dims: [4, ...one.dims.slice(1)] };
  const auto = await engine.run(x, { wrt: ['input'], targetWeight: 'argmax' });
  const logits = auto.outputs['logits']!.data;
  const predicted = [0, 1, 2, 3].map((n) => {
    const row = Array.from(logits.subarray(n * 10, n * 10 + 10));
    return row.indexOf(Math.max(...row));
  });
  const explicit = await engine.run(x, { wrt: ['input'] }, oneHot([4, 10], predicted));
  assert.ok(relativeL2(auto.gradients['input']!.data, explicit.gradients['input']!.data) < 1e-6);
  assert.ok(new Set(predicted).size > 1, `images predict different classes (${predicted}), so per-image selection is exercised`);
});

test('Conv+BN is folded only on the way of the backward pass, and the gradients do not depend on it', async () => {
  const model = zoo['tiny-resnet']!.build();
  const layer = zoo['tiny-resnet']!.spatialLayer;
  const bns = (m: ModelProto) => m.graph!.node.filter((n) => n.opType === 'BatchNormalization').length;
  assert.ok(bns(model) >= 5);
  const inputShape = zoo['tiny-resnet']!.inputShape(2);
  // A gradient at the last block: the BNs before it are forward only (onnxruntime fuses them).
  const late = await compile(model, { inputShape, wrt: [layer] });
  // A gradient at the input as well: every BN is on the backward pass, folded into its Conv.
  const all = await compile(model, { inputShape, wrt: ['input', layer] });
  assert.equal(bns(all.model), 0);
  assert.ok(bns(late.model) >= 4, `${bns(late.model)} BatchNormalization nodes left before '${layer}'`);
  const rng = new Rng(4);
  const x = Float32Array.from({ length: inputShape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  const w = oneHot(late.targetShape, [3, 8]);
  const run = async (c: typeof late) => {
    const session = await ort.InferenceSession.create(serializeModel(c.model));
    const out = await session.run({ input: new ort.Tensor('float32', x, inputShape), [c.targetWeight]: new ort.Tensor('float32', w.data, w.dims) });
    await session.release();
    return out[c.gradients[layer]!]!.data as Float32Array;
  };
  assert.ok(relativeL2(await run(late), await run(all)) < 1e-5);
});

test('a model re-encoded (weights placed once, after the rest of the graph) reads back equal and runs as the exported file', async () => {
  const bytes = new Uint8Array(readFileSync(vggPath));
  const model = parseModel(bytes);
  const again = serializeModel(model);
  const plain = (m: ModelProto) => JSON.stringify(m, (_, v) => (v instanceof Uint8Array ? Array.from(v) : v));
  assert.equal(plain(parseModel(again)), plain(model));
  const x = vggInput();
  const scores = async (b: Uint8Array) => {
    const session = await ort.InferenceSession.create(b);
    const out = await session.run({ input: new ort.Tensor('float32', x.data, x.dims) });
    await session.release();
    return [...(out[session.outputNames[0]!]!.data as Float32Array)];
  };
  assert.deepEqual(await scores(again), await scores(bytes));
  // Values stored as float_data (no raw bytes) and a model without weights take the same path.
  const first = model.graph!.initializer![0]!;
  const listed: ModelProto = { ...model, graph: { ...model.graph!, initializer: [{ name: first.name ?? '', dataType: 1, dims: first.dims ?? [], floatData: [...(readTensorProto(first).data as Float32Array)] }, ...model.graph!.initializer!.slice(1)] } };
  const values = (m: ModelProto) => m.graph!.initializer!.map((t) => [t.name, [...readTensorProto(t).data]]);
  assert.deepEqual(values(parseModel(serializeModel(listed))), values(model));
  const bare = parseModel(serializeModel({ ...model, graph: { ...model.graph!, initializer: [] } }));
  assert.equal(bare.graph!.initializer?.length ?? 0, 0);
  assert.equal(JSON.stringify(bare.graph!.node), JSON.stringify(model.graph!.node));
});
