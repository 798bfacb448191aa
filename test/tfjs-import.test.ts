/**
 * TF.js import: imported models compute what @tensorflow/tfjs computes (cpu backend) on
 * the real models shipped by @vladmandic/human and nsfwjs, on generated LayersModels that
 * use every supported layer, and on a hand-written GraphModel that uses the TF ops the real
 * ones do not; quantized and float16 weights are dequantized as tfjs does; gradients through
 * an imported model agree with finite differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readModelFile } from '../src/model/file.ts';
import { Session } from '../src/runtime/session.ts';
import { GradientEngine } from '../src/autodiff/engine.ts';
import { halfToFloat } from '../src/import/tfjs/weights.ts';
import { ConvlensError } from '../src/errors.ts';
import { Rng } from '../src/runtime/rng.ts';
import { GraphJson, HUMAN_MODELS, artifacts, attr, nsfwMobileNetV2, randomizeWeights, saveLayersModel, scaledMaxDiff, tempDir, testInput, tf } from './tfjs-helpers.ts';

const TOL = 1e-4;

/** Run the imported ONNX model; outputs by name. */
async function runImported(path: string, x: Float32Array, dims: number[]): Promise<Record<string, { data: ArrayLike<number>; dims: number[] }>> {
  await using s = await Session.create(readModelFile(path));
  const out = await s.run({ [s.inputNames[0]!]: { data: x, dims } });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { data: Array.from(v.data as ArrayLike<number>, Number), dims: v.dims }]));
}

async function compareLayers(path: string, dims: number[], lo = 0, hi = 1): Promise<void> {
  const x = testInput(dims, lo, hi);
  const reference = await tf.loadLayersModel(artifacts(path));
  const predicted = reference.predict(tf.tensor(x, dims));
  const expected = (Array.isArray(predicted) ? predicted : [predicted]).map((t) => ({ data: t.dataSync() as Float32Array, dims: t.shape }));
  const got = Object.values(await runImported(path, x, dims));
  assert.equal(got.length, expected.length);
  got.forEach((g, i) => {
    assert.deepEqual(g.dims, expected[i]!.dims);
    const d = scaledMaxDiff(g.data, expected[i]!.data);
    assert.ok(d < TOL, `${path} output ${i}: max diff ${d}`);
  });
}

async function compareGraph(path: string, dims: number[], lo = 0, hi = 1): Promise<string[]> {
  const x = testInput(dims, lo, hi);
  const got = await runImported(path, x, dims);
  const names = Object.keys(got);
  const reference = await tf.loadGraphModel(artifacts(path));
  const result = reference.execute(tf.tensor(x, dims), names);
  const expected = Array.isArray(result) ? result : [result];
  names.forEach((name, i) => {
    assert.deepEqual(got[name]!.dims, expected[i]!.shape, name);
    const d = scaledMaxDiff(got[name]!.data, expected[i]!.dataSync() as Float32Array);
    assert.ok(d < TOL, `${path} output ${name}: max diff ${d}`);
  });
  return names;
}

test('halfToFloat decodes normal, subnormal and special half-precision values', () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test('real GraphModel: human emotion CNN (64x64x1, 7 classes) equals tfjs', async () => {
  assert.deepEqual(await compareGraph(`${HUMAN_MODELS}/emotion.json`, [2, 64, 64, 1]), ['Identity']);
});

test('real GraphModel: CenterNet (float16 weights, TopK post-processing) equals tfjs on all three outputs', async () => {
  const names = await compareGraph(`${HUMAN_MODELS}/centernet.json`, [1, 512, 512, 3], 0, 255);
  assert.deepEqual(names.sort(), ['tower_0/detections', 'tower_0/keypoints', 'tower_0/wh']);
});

test('real LayersModel: nsfwjs MobileNetV2 (uint8-quantized weights) equals tfjs; Keras layer names are ONNX tensors', async () => {
  const path = nsfwMobileNetV2();
  await compareLayers(path, [1, 224, 224, 3]);
  const model = readModelFile(path);
  const outputs = new Set(model.graph!.node.flatMap((n) => n.output));
  for (const layer of ['Conv1', 'bn_Conv1', 'Conv1_relu', 'block_16_project_BN', 'out_relu', 'dense_3']) assert.ok(outputs.has(layer), layer);
  assert.equal(model.graph!.input![0]!.name, 'input_1');
});

test('generated Sequential model with conv, depthwise, separable, transpose, pooling and upsampling layers equals tfjs', async () => {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [11, 11, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'c1' }));
  m.add(tf.layers.batchNormalization({ name: 'bn1' }));
  m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw' }));
  m.add(tf.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: 'valid', activation: 'sigmoid', name: 'sep' }));
  m.add(tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 2]], name: 'zp' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'mp' }));
  m.add(tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh', name: 'ct' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'ap' }));
  m.add(tf.layers.upSampling2d({ size: [2, 3], name: 'up' }));
  m.add(tf.layers.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 3, padding: 'valid', name: 'ct2' }));
  m.add(tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear', name: 'upb' }));
  m.add(tf.layers.reLU({ maxValue: 0.3, name: 'relu' }));
  m.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  m.add(tf.layers.dense({ units: 4, activation: 'softmax', name: 'fc' }));
  randomizeWeights(m, 1);
  await compareLayers(await saveLayersModel(m, tempDir('seq')), [2, 11, 11, 3]);
});

test('generated functional model with Add, Multiply, Concatenate, BatchNormalization without scale/center, Flatten, Reshape, Dropout, Softmax equals tfjs', async () => {
  const input = tf.input({ shape: [8, 8, 2], name: 'image' });
  const a = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'a' }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'b', useBias: false }).apply(input) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'sum' }).apply([a, b]) as tf.SymbolicTensor;
  const prod = tf.layers.multiply({ name: 'prod' }).apply([a, sum]) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([prod, b, sum]) as tf.SymbolicTensor;
  const bnNoScale = tf.layers.batchNormalization({ scale: false, name: 'bn_noscale' }).apply(cat) as tf.SymbolicTensor;
  const bnNoCenter = tf.layers.batchNormalization({ center: false, name: 'bn_nocenter' }).apply(bnNoScale) as tf.SymbolicTensor;
  const act = tf.layers.activation({ activation: 'elu', name: 'act' }).apply(bnNoCenter) as tf.SymbolicTensor;
  const gmp = tf.layers.globalMaxPooling2d({ name: 'gmp' }).apply(act) as tf.SymbolicTensor;
  const flat = tf.layers.flatten({ name: 'flat' }).apply(act) as tf.SymbolicTensor;
  const drop = tf.layers.dropout({ rate: 0.5, name: 'drop' }).apply(flat) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: 12, activation: 'relu6', name: 'dense' }).apply(drop) as tf.SymbolicTensor;
  const reshaped = tf.layers.reshape({ targetShape: [3, 4], name: 'reshaped' }).apply(dense) as tf.SymbolicTensor;
  const soft = tf.layers.softmax({ axis: -1, name: 'soft' }).apply(reshaped) as tf.SymbolicTensor;
  const bnDense = tf.layers.batchNormalization({ name: 'bn_dense' }).apply(gmp) as tf.SymbolicTensor;
  const head = tf.layers.dense({ units: 2, activation: 'sigmoid', name: 'head' }).apply(bnDense) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: [soft, head, act] });
  randomizeWeights(m, 2);
  await compareLayers(await saveLayersModel(m, tempDir('fn')), [2, 8, 8, 2], -1, 1);
});

test('Keras ReLU negative_slope and max_value follow the Keras formula (tfjs ignores negative_slope)', async () => {
  const m = tf.sequential({ layers: [tf.layers.reLU({ inputShape: [1, 4, 1], maxValue: 2, name: 'r' })] });
  const dir = tempDir('relu');
  const path = await saveLayersModel(m, dir);
  const json = JSON.parse(readFileSync(path, 'utf8'));
  json.modelTopology.config.layers[0].config.negative_slope = 0.25;
  writeFileSync(path, JSON.stringify(json));
  const got = await runImported(path, Float32Array.of(-2, 0.5, 1.5, 3), [1, 1, 4, 1]);
  assert.deepEqual(Array.from(Object.values(got)[0]!.data), [-0.5, 0.5, 1.5, 2]);
});

test('uint16-quantized and float16 weight manifests are dequantized as tfjs does', async () => {
  const m = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [5, 5, 2], filters: 3, kernelSize: 3, name: 'c' }), tf.layers.flatten({ name: 'f' })] });
  randomizeWeights(m, 4);
  const path = await saveLayersModel(m, tempDir('quant'));
  const json = JSON.parse(readFileSync(path, 'utf8'));
  const raw = new Float32Array(readFileSync(join(path, '..', 'weights.bin')).buffer.slice(0));
  // kernel as uint16 with min/scale, bias as float16 (1.5 and -0.25 are exact in half).
  const kernel = raw.subarray(0, 54);
  const min = Math.min(...kernel);
  const scale = (Math.max(...kernel) - min) / 65535;
  const q = Uint16Array.from(kernel, (v) => Math.round((v - min) / scale));
  const half = Uint16Array.of(0x3e00, 0xb400, 0x3c00);
  json.weightsManifest[0].weights[0].quantization = { dtype: 'uint16', min, scale };
  json.weightsManifest[0].weights[1].quantization = { dtype: 'float16' };
  writeFileSync(path, JSON.stringify(json));
  writeFileSync(join(path, '..', 'weights.bin'), Buffer.concat([Buffer.from(q.buffer), Buffer.from(half.buffer)]));
  await compareLayers(path, [1, 5, 5, 2]);
  const model = readModelFile(path);
  const bias = model.graph!.initializer!.find((t) => t.name === 'c/bias')!;
  assert.deepEqual(Array.from(new Float32Array(bias.rawData!.slice().buffer)), [1.5, -0.25, 1]);
});

test('hand-written GraphModel with the TF ops the real models lack equals tfjs', async () => {
  const g = new GraphJson(5);
  const x = g.input('x', [-1, 9, 9, 3]);
  const nhwc = (s: number[]) => attr.is([1, ...s, 1]);
  const p = g.node('pad', 'Pad', [x, g.int('pad/p', [4, 2], [0, 0, 1, 2, 2, 1, 0, 0])]);
  const c = g.node('conv', 'Conv2D', [p, g.float('conv/w', [3, 3, 3, 4])], { strides: nhwc([2, 2]), padding: attr.s('VALID'), dilations: nhwc([1, 1]), data_format: attr.s('NHWC') });
  const ba = g.node('bias', 'BiasAdd', [c, g.float('bias/b', [4])]);
  const el = g.node('elu', 'Elu', [ba]);
  const ap = g.node('avg', 'AvgPool', [el], { ksize: nhwc([3, 3]), strides: nhwc([2, 2]), padding: attr.s('SAME') });
  const lr = g.node('leaky', 'LeakyRelu', [ap], { alpha: attr.f(0.1) });
  const rn = g.node('nearest', 'ResizeNearestNeighbor', [lr, g.int('nearest/size', [2], [5, 5])], { half_pixel_centers: attr.b(true), align_corners: attr.b(false) });
  const th = g.node('tanh', 'Tanh', [rn]);
  const dv = g.node('div', 'RealDiv', [th, g.float('div/d', [4], 0, [2, -1, 0.5, 4])]);
  const dw = g.node('dw', 'FusedDepthwiseConv2dNative', [dv, g.float('dw/w', [3, 3, 4, 2]), g.float('dw/b', [8])],
    { strides: nhwc([1, 1]), padding: attr.s('SAME'), dilations: nhwc([1, 1]), fused_ops: attr.ss(['BiasAdd', 'Relu6']), num_args: attr.i(1), data_format: attr.s('NHWC') });
  const rb = g.node('bilinear', 'ResizeBilinear', [dw, g.int('bilinear/size', [2], [7, 7])], { align_corners: attr.b(true), half_pixel_centers: attr.b(false) });
  const p2 = g.node('pad2', 'PadV2', [rb, g.int('pad2/p', [4, 2], [0, 0, 1, 1, 1, 1, 0, 0]), g.float('pad2/v', [], 0, [0.5])]);
  const fc = g.node('fconv', '_FusedConv2D', [p2, g.float('fconv/w', [1, 1, 8, 6]), g.float('fconv/b', [6])],
    { strides: nhwc([1, 1]), padding: attr.s('EXPLICIT'), explicit_paddings: attr.is([0, 0, 1, 0, 0, 1, 0, 0]), dilations: nhwc([1, 1]), fused_ops: attr.ss(['BiasAdd', 'LeakyRelu']), leakyrelu_alpha: attr.f(0.3), num_args: attr.i(1), data_format: attr.s('NHWC') });
  const mx = g.node('max', 'Max', [fc, g.int('max/axes', [2], [1, 2])], { keep_dims: attr.b(true) });
  const sq = g.node('squeeze', 'Squeeze', [mx], { squeeze_dims: attr.is([1, 2]) });
  const mm = g.node('matmul', 'MatMul', [sq, g.float('matmul/w', [6, 5])], { transpose_a: attr.b(false), transpose_b: attr.b(false) });
  const bm = g.node('bias2', 'BiasAdd', [mm, g.float('bias2/b', [5])]);
  const fm = g.node('fmatmul', '_FusedMatMul', [bm, g.float('fmatmul/w', [3, 5]), g.float('fmatmul/b', [3])], { transpose_a: attr.b(false), transpose_b: attr.b(true), fused_ops: attr.ss(['BiasAdd', 'Relu']), num_args: attr.i(1) });
  const sm = g.node('probs', 'Softmax', [fm]);
  const tr = g.node('transpose', 'Transpose', [fc, g.int('transpose/perm', [4], [0, 3, 1, 2])]);
  const ss = g.node('slice', 'StridedSlice', [tr, g.int('slice/b', [4], [0, 1, 0, 0]), g.int('slice/e', [4], [0, 4, 0, 0]), g.int('slice/s', [4], [1, 2, 1, 1])],
    { begin_mask: attr.i(0b1101), end_mask: attr.i(0b1101), shrink_axis_mask: attr.i(0), ellipsis_mask: attr.i(0), new_axis_mask: attr.i(0) });
  const ss2 = g.node('slice2', 'StridedSlice', [tr, g.int('slice2/b', [2], [0, 2]), g.int('slice2/e', [2], [0, 3]), g.int('slice2/s', [2], [1, 1])],
    { begin_mask: attr.i(1), end_mask: attr.i(1), shrink_axis_mask: attr.i(2), ellipsis_mask: attr.i(0), new_axis_mask: attr.i(0) });
  const ed = g.node('expand', 'ExpandDims', [ss2, g.int('expand/dim', [], [-1])]);
  const mn = g.node('mean', 'Mean', [ed, g.int('mean/axes', [2], [1, 2])], { keep_dims: attr.b(false) });
  const sg = g.node('gate', 'Sigmoid', [mn]);
  const rl = g.node('rect', 'Relu', [ss]);
  const names = await compareGraph(g.write(tempDir('graph'), [sm, sg, rl]), [2, 9, 9, 3], -1, 1);
  assert.deepEqual(names, ['probs', 'gate', 'rect']);
});

test('an unsupported layer or op fails with one line naming it and the node', async () => {
  const m = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 1, kernelSize: 1, name: 'c' }), tf.layers.layerNormalization({ name: 'ln' })] });
  const path = await saveLayersModel(m, tempDir('bad'));
  assert.throws(() => readModelFile(path), (e: Error) => e instanceof ConvlensError && /layer 'ln' \(LayerNormalization\) is not supported/.test(e.message) && !e.message.includes('\n'));
  const g = new GraphJson(1);
  const x = g.input('x', [-1, 4, 4, 1]);
  const out = g.node('weird/op', 'Cumsum', [x, g.int('axis', [], [1])]);
  const gpath = g.write(tempDir('badgraph'), [out]);
  assert.throws(() => readModelFile(gpath), /op Cumsum of node 'weird\/op' is not supported/);
});

test('gradients through an imported functional model agree with finite differences (input and a Keras layer)', async () => {
  const input = tf.input({ shape: [10, 10, 3], name: 'image' });
  const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'elu', name: 'c1' }).apply(input) as tf.SymbolicTensor;
  const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', name: 'dw' }).apply(c1) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(dw) as tf.SymbolicTensor;
  const up = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear', name: 'up' }).apply(bn) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([up, c1]) as tf.SymbolicTensor;
  const pool = tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool' }).apply(cat) as tf.SymbolicTensor;
  const flat = tf.layers.flatten({ name: 'flat' }).apply(pool) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'out' }).apply(flat) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  randomizeWeights(m, 6);
  const model = readModelFile(await saveLayersModel(m, tempDir('grad')));
  await using engine = new GradientEngine(model);
  const rng = new Rng(9);
  const dims = [2, 10, 10, 3];
  const x = { data: testInput(dims, -1, 1), dims };
  const w = { data: Float32Array.from({ length: 6 }, () => rng.normal()), dims: [2, 3] };
  const layer = 'cat';
  const res = await engine.run(x, { wrt: ['image', layer], expose: [layer] }, w);
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i]!, 0);
  const g = res.gradients['image']!.data;
  const gMax = g.reduce((mx, t) => Math.max(mx, Math.abs(t)), 1e-12);
  const v = g.map((t) => t / gMax + 0.3 * rng.normal());
  const h = 1e-3;
  const target = res.compiled.target;
  const at = (s: number) => engine.run({ data: x.data.map((xi, i) => xi + s * h * v[i]!), dims }, { expose: [layer, target] });
  const [p, mm] = [await at(1), await at(-1)];
  const dS = dot(p.exposed[target]!.data, w.data) - dot(mm.exposed[target]!.data, w.data);
  const close = (a: number, b: number) => Math.abs(a - b) <= 2e-2 * Math.max(Math.abs(a), Math.abs(b), 1e-3);
  const viaInput = 2 * h * dot(g, v);
  assert.ok(close(viaInput, dS), `input: ${viaInput} vs ${dS}`);
  const dA = p.exposed[layer]!.data.map((a, i) => a - mm.exposed[layer]!.data[i]!);
  const viaLayer = dot(res.gradients[layer]!.data, dA);
  assert.ok(close(viaLayer, dS), `layer: ${viaLayer} vs ${dS}`);
  assert.equal(res.gradients[layer]!.dims.length, 4);
});
