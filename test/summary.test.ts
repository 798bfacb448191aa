import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelProto } from '../src/model/onnx-proto.ts';
import { int64ToNumber } from '../src/model/onnx-proto.ts';
import { DataType, floatTensor } from '../src/model/tensor-data.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import { specializeFor } from '../src/autodiff/compile.ts';
import { formatSummary, summarize, type ModelSummary } from '../src/inspect/summary.ts';
import { zoo } from './zoo/models.ts';
import { imagenetInputShape, resnet50 } from '../bench/models.ts';
import { valueInfo } from './helpers.ts';

const row = (s: ModelSummary, node: string) => {
  const r = s.rows.find((x) => x.node === node);
  assert.ok(r, `no row '${node}'`);
  return r;
};

/** Element count of the model's floating-point initializers, read from the protos. */
function floatInitializerElements(model: ModelProto): number {
  const float = new Set<number>([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16]);
  return (model.graph!.initializer ?? [])
    .filter((t) => float.has(t.dataType ?? 0))
    .reduce((sum, t) => sum + (t.dims ?? []).reduce<number>((p, d) => p * int64ToNumber(d), 1), 0);
}

test('summary of tiny-vgg: parameters and MACs by hand', async () => {
  const s = summarize(await specializeFor(zoo['tiny-vgg']!.build(), { inputShape: [1, 3, 32, 32] }));
  // 3x3 convs, 'same' padding: MACs = H*W*M*C*9, parameters = M*C*9 + M.
  //   conv1 3->8   at 32x32: 32*32*8*3*9  = 221,184   params 224
  //   conv2 8->8   at 32x32: 32*32*8*8*9  = 589,824   params 584
  //   conv3 8->16  at 16x16: 16*16*16*8*9 = 294,912   params 1,168
  //   conv4 16->16 at 16x16: 16*16*16*16*9 = 589,824  params 2,320
  //   logits Gemm 1024 (16*8*8) -> 10:     10,240     params 10,250
  const expected: [string, number, number, number[]][] = [
    ['conv1', 224, 221_184, [1, 8, 32, 32]],
    ['conv2', 584, 589_824, [1, 8, 32, 32]],
    ['conv3', 1_168, 294_912, [1, 16, 16, 16]],
    ['conv4', 2_320, 589_824, [1, 16, 16, 16]],
    ['logits', 10_250, 10_240, [1, 10]],
  ];
  for (const [node, parameters, macs, shape] of expected) {
    const r = row(s, node);
    assert.deepEqual([r.parameters, r.macs, r.shape], [parameters, macs, shape], node);
  }
  assert.deepEqual(row(s, 'maxpool1'), { node: 'maxpool1', op: 'MaxPool', kind: 'compute', output: 'maxpool1', shape: [1, 8, 16, 16], parameters: 0, macs: 0 });
  assert.equal(s.totals.parameters, 14_546);
  assert.equal(s.totals.unusedParameters, 0);
  assert.equal(s.totals.macs, 1_705_984);
  assert.deepEqual(s.totals.nodes, { Conv: 4, Relu: 4, MaxPool: 2, Flatten: 1, Gemm: 1 });
  // MACs scale with the batch; parameters do not.
  const s3 = summarize(await specializeFor(zoo['tiny-vgg']!.build(), { inputShape: [3, 3, 32, 32] }));
  assert.equal(s3.totals.macs, 3 * 1_705_984);
  assert.equal(s3.totals.parameters, 14_546);
});

/**
 * x [2,3,4,4] -> ConvTranspose(w1 [3,4,2,2], stride 2) -> [2,4,8,8] -> Reshape([0,4,64])
 * -> MatMul(Constant node [64,5]) -> [2,4,5] -> Add(bias) -> Add(same bias)
 * -> Flatten [2,20] -> Transpose [20,2] -> Gemm(transA=1, B [20,3]) -> [2,3];
 * plus an initializer no node reads.
 */
function handModel(): ModelProto {
  const b = new GraphBuilder(['x']);
  const ramp = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 10);
  const up = b.op('ConvTranspose', ['x', b.constant('w1', floatTensor([3, 4, 2, 2], ramp(48)))], { kernel_shape: [2, 2], strides: [2, 2] }, 'up');
  const flat = b.op('Reshape', [up, b.int64s('shape', [0, 4, 64])], {}, 'flat');
  const wc = b.op('Constant', [], { value: floatTensor([64, 5], ramp(320)) }, 'wc');
  const mm = b.op('MatMul', [flat, wc], {}, 'mm');
  const bias = b.constant('bias', floatTensor([5], ramp(5)));
  const added = b.op('Add', [b.op('Add', [mm, bias], {}, 'add1'), bias], {}, 'add2');
  const t = b.op('Transpose', [b.op('Flatten', [added], { axis: 1 }, 'flatten')], { perm: [1, 0] }, 'transpose');
  b.op('Gemm', [t, b.constant('wg', floatTensor([20, 3], ramp(60)))], { transA: 1 }, 'gemm');
  b.constant('unused', floatTensor([7], ramp(7)));
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'hand', node: b.nodes, initializer: b.initializers, input: [valueInfo('x', [2, 3, 4, 4])], output: [valueInfo('gemm', [2, 3])] },
  };
}

test('summary conventions: ConvTranspose, broadcast MatMul, Gemm transA, shared, Constant, integer and unused tensors', async () => {
  const s = summarize(await specializeFor(handModel(), { inputShape: [2, 3, 4, 4] }));
  // ConvTranspose: N*C*Hin*Win * (M/group)*k*k = 2*3*4*4 * 4*2*2 = 1,536.
  assert.deepEqual([row(s, 'up').parameters, row(s, 'up').macs, row(s, 'up').shape], [48, 1_536, [2, 4, 8, 8]]);
  // The Reshape target is an int64 initializer: structure, not a parameter.
  assert.deepEqual([row(s, 'flat').parameters, row(s, 'flat').macs], [0, 0]);
  // The Constant node is no compute node; its 64*5 values count at their reader, the MatMul:
  // broadcast batch 2 * M 4 * N 5 * K 64 = 2,560.
  assert.equal(row(s, 'wc').kind, 'constant');
  assert.deepEqual([row(s, 'wc').parameters, row(s, 'mm').parameters, row(s, 'mm').macs, row(s, 'mm').shape], [0, 320, 2_560, [2, 4, 5]]);
  // A tensor read twice counts once, at its first reader; element-wise ops have no MACs.
  assert.deepEqual([row(s, 'add1').parameters, row(s, 'add2').parameters, row(s, 'add1').macs], [5, 0, 0]);
  // Gemm with transA: A is [K, M] = [20, 2]; M*N*K = 2*3*20 = 120.
  assert.deepEqual([row(s, 'gemm').parameters, row(s, 'gemm').macs, row(s, 'gemm').shape], [60, 120, [2, 3]]);
  assert.equal(s.totals.parameters, 48 + 320 + 5 + 60);
  assert.equal(s.totals.unusedParameters, 7);
  assert.equal(s.totals.macs, 1_536 + 2_560 + 120);
  const text = formatSummary(s);
  assert.match(text, /^Total parameters: 433 \(433\)$/m);
  assert.match(text, /^Unused parameters \(read by no node\): 7$/m);
  assert.match(text, /^wc +Constant \(const\) +\[64, 5\] +0 +0$/m);
});

test('parameters + unused parameters = float initializer sizes, for every zoo model', async () => {
  for (const [name, entry] of Object.entries(zoo)) {
    const model = entry.build();
    const s = summarize(await specializeFor(model, { inputShape: entry.inputShape(2) }));
    assert.equal(s.totals.parameters + s.totals.unusedParameters, floatInitializerElements(model), name);
    // Only alexnet's Dropout ratio is left unread (Dropout becomes Identity at inference).
    assert.equal(s.totals.unusedParameters, name === 'alexnet' ? 1 : 0, name);
  }
});

test('summary of ResNet-50 at 224x224', async () => {
  const model = resnet50();
  const s = summarize(await specializeFor(model, { inputShape: imagenetInputShape(1) }));
  // torchvision's resnet50 has 25,557,032 parameters; its 53 BNs hold 26,560 channels
  // (64 + 3*(64+64+256)+256 + 4*(128+128+512)+512 + 6*(256+256+1024)+1024 + 3*(512+512+2048)+2048),
  // whose running mean and variance add 2*26,560 = 53,120 stored values.
  assert.equal(s.totals.parameters, 25_610_152);
  assert.equal(s.totals.parameters, floatInitializerElements(model));
  assert.equal(s.totals.unusedParameters, 0);
  // MACs, batch 1 (conv: Ho*Wo*Cout*Cin*k*k):
  //   conv1 7x7/2 3->64 at 112x112:                               118,013,952
  //   a bottleneck without projection, width w at side h:
  //     h^2*(4w*w + 9w*w + w*4w) = 17 w^2 h^2 = 218,365,952 in every stage (w*h is 3,584)
  //   first block of a stage (input 4w/2 channels at side 2h for stages 2-4, the stride on
  //   the 3x3 as in torchvision v1.5): 1x1 at 2h: 4h^2*2w*w = 102,760,448, 3x3 115,605,504,
  //   1x1 w->4w 51,380,224, projection 2w->4w at h: 102,760,448; sum 372,506,624;
  //   layer1's first block (64 channels in, no stride): 12,845,056 + 115,605,504 + 2*51,380,224 = 231,211,008
  //   layer1 231,211,008 + 2*218,365,952 =                        667,942,912
  //   layer2 372,506,624 + 3*218,365,952 =                      1,027,604,480
  //   layer3 372,506,624 + 5*218,365,952 =                      1,464,336,384
  //   layer4 372,506,624 + 2*218,365,952 =                        809,238,528
  //   fc 2048*1000 =                                                2,048,000
  //   total                                                     4,089,184,256
  assert.equal(row(s, 'conv1').macs, 118_013_952);
  assert.equal(row(s, 'layer2.0.conv1').macs, 102_760_448);
  assert.equal(row(s, 'layer3.1.conv2').macs, 115_605_504);
  assert.equal(row(s, 'logits').macs, 2_048_000);
  assert.equal(s.totals.macs, 4_089_184_256);
  assert.deepEqual(s.totals.nodes, { BatchNormalization: 53, Conv: 53, Relu: 49, Add: 16, Flatten: 1, Gemm: 1, GlobalAveragePool: 1, MaxPool: 1 });

  const text = formatSummary(s);
  for (const r of s.rows) assert.ok(text.includes(r.node), `'${r.node}' missing from the table`);
  assert.match(text, /^Total parameters: 25,610,152 \(25\.61 M\)$/m);
  assert.match(text, /^MACs \(Conv, ConvTranspose, Gemm, MatMul\): 4,089,184,256 \(4\.09 G\)$/m);
  // Aligned: the header and every row end at the same column (numbers are right-aligned).
  const lines = text.split('\n');
  const table = lines.slice(lines.findIndex((l) => l.startsWith('Node ')), lines.findIndex((l, i) => i > 3 && l.startsWith('===')));
  const rows = table.filter((l) => !l.startsWith('---'));
  assert.equal(rows.length, s.rows.length + 1);
  assert.equal(new Set(rows.map((l) => l.length)).size, 1, 'ragged table');
  assert.match(text, /^layer1\.0\.conv2 +Conv +\[1, 64, 56, 56\] +36,864 +115,605,504$/m);
});
