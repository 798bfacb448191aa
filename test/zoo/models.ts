/**
 * The test model zoo: small CNNs, each covering the export patterns of one architecture
 * family, with seeded random weights. All take a float image batch 'input' with batch 'N'
 * and return [N, 10].
 */
import type { ModelProto } from '../../src/model/onnx-proto.ts';
import { DataType } from '../../src/model/tensor-data.ts';
import { Net } from './net.ts';

export interface ZooModel {
  build(seed?: number): ModelProto;
  inputShape: (batch: number) => number[];
  description: string;
  /** Output of the last convolutional stage (the Grad-CAM target layer). */
  spatialLayer: string;
}

const CLASSES = 10;
const DEFAULT_SEED = 1;

const nchw = (size: number) => (batch: number): number[] => [batch, 3, size, size];

/** Final classifier: gain 1 since no ReLU follows, keeping logits O(1). */
function classifier(net: Net, x: string, name = 'logits'): string {
  return net.gemm(x, CLASSES, { gain: 1, name });
}

function tinyVgg(seed = DEFAULT_SEED): ModelProto {
  const net = new Net('tiny-vgg', seed, ['N', 3, 32, 32]);
  let x = net.relu(net.conv(net.input, 8));
  x = net.relu(net.conv(x, 8));
  x = net.maxpool(x, { k: 2 });
  x = net.relu(net.conv(x, 16));
  x = net.relu(net.conv(x, 16), 'features');
  x = net.maxpool(x, { k: 2 });
  return net.finish([classifier(net, net.flatten(x))]);
}

function convBnRelu(net: Net, x: string, outCh: number, stride: number, name: string): string {
  return net.relu(net.bn(net.conv(x, outCh, { stride, bias: false, name: `${name}.conv` }), { name: `${name}.bn` }), `${name}.relu`);
}

/**
 * A basic residual block (two 3x3 convs); a 1x1 projection shortcut when the shape changes.
 * The branch's last BN has a small scale so that the Add roughly keeps the input's variance.
 */
function basicBlock(net: Net, x: string, outCh: number, stride: number, name: string): string {
  let y = convBnRelu(net, x, outCh, stride, `${name}.1`);
  y = net.bn(net.conv(y, outCh, { bias: false, gain: 1, name: `${name}.2.conv` }), { gamma: [0.2, 0.5], name: `${name}.2.bn` });
  const shortcut = stride === 1 && net.channels(x) === outCh
    ? x
    : net.bn(net.conv(x, outCh, { k: 1, stride, bias: false, gain: 1, name: `${name}.down.conv` }), { name: `${name}.down.bn` });
  return net.relu(net.add(y, shortcut, `${name}.add`), `${name}.relu`);
}

function tinyResnet(seed = DEFAULT_SEED): ModelProto {
  const net = new Net('tiny-resnet', seed, ['N', 3, 32, 32]);
  let x = convBnRelu(net, net.input, 16, 1, 'stem');
  x = basicBlock(net, x, 16, 1, 'block1');
  x = basicBlock(net, x, 32, 2, 'block2');
  return net.finish([classifier(net, net.flatten(net.gap(x)))]);
}

/**
 * MobileNetV2's inverted residual (Sandler et al. 2018): 1x1 expand, 3x3 depthwise,
 * linear 1x1 projection, identity shortcut when stride 1 and widths match.
 */
function invertedResidual(net: Net, x: string, outCh: number, stride: number, name: string): string {
  const inCh = net.channels(x), hidden = inCh * 4;
  const residual = stride === 1 && inCh === outCh;
  let y = net.clip(net.bn(net.conv(x, hidden, { k: 1, bias: false, name: `${name}.expand` })), 0, 6);
  y = net.clip(net.bn(net.conv(y, hidden, { stride, group: hidden, bias: false, name: `${name}.dw` })), 0, 6);
  y = net.bn(net.conv(y, outCh, { k: 1, bias: false, gain: 1, name: `${name}.project` }), { gamma: residual ? [0.2, 0.5] : [0.5, 1.5] });
  return residual ? net.add(x, y, `${name}.add`) : y;
}

function mobilenetV2(seed = DEFAULT_SEED): ModelProto {
  const net = new Net('mobilenet-v2', seed, ['N', 3, 32, 32]);
  let x = net.clip(net.bn(net.conv(net.input, 16, { stride: 2, bias: false, name: 'stem' })), 0, 6);
  x = invertedResidual(net, x, 16, 1, 'ir1');
  x = invertedResidual(net, x, 24, 2, 'ir2');
  x = invertedResidual(net, x, 24, 1, 'ir3');
  x = net.clip(net.bn(net.conv(x, 64, { k: 1, bias: false, name: 'head' })), 0, 6, 'features');
  return net.finish([classifier(net, net.flatten(net.gap(x)))]);
}

/**
 * Squeeze-and-excitation (Hu et al. 2018): per-channel gates from globally pooled features,
 * broadcast-multiplied back onto the map.
 */
function squeezeExcite(net: Net, x: string, gate: 'sigmoid' | 'hardSigmoid', name: string): string {
  const c = net.channels(x);
  let s = net.relu(net.conv(net.gap(x), c / 4, { k: 1, name: `${name}.fc1` }));
  s = net.conv(s, c, { k: 1, gain: 1, name: `${name}.fc2` });
  s = gate === 'sigmoid' ? net.sigmoid(s) : net.hardSigmoid(s);
  return net.mul(x, s, `${name}.scale`);
}

function seHardswish(seed = DEFAULT_SEED): ModelProto {
  const net = new Net('se-hardswish', seed, ['N', 3, 32, 32]);
  let x = net.hardSwish(net.bn(net.conv(net.input, 16, { stride: 2, bias: false, name: 'stem' })));
  x = net.hardSwish(net.bn(net.conv(x, 16, { group: 16, bias: false, name: 'dw1' })));
  x = squeezeExcite(net, x, 'sigmoid', 'se1');
  x = net.hardSwish(net.bn(net.conv(x, 32, { k: 1, bias: false, name: 'pw1' })));
  x = net.hardSwish(net.bn(net.conv(x, 32, { stride: 2, group: 32, bias: false, name: 'dw2' })));
  // MobileNetV3 gates with the hard sigmoid instead.
  x = squeezeExcite(net, x, 'hardSigmoid', 'se2');
  x = net.hardSwish(net.bn(net.conv(x, 48, { k: 1, bias: false, name: 'pw2' })), 'features');
  return net.finish([classifier(net, net.flatten(net.gap(x)))]);
}

/** DenseNet-BC layers (Huang et al. 2017): BN-ReLU-1x1 bottleneck-BN-ReLU-3x3, each adding `growth` channels by concatenation. */
function denseBlock(net: Net, x: string, layers: number, growth: number, name: string): string {
  for (let i = 1; i <= layers; i++) {
    let y = net.conv(net.relu(net.bn(x)), 4 * growth, { k: 1, bias: false, name: `${name}.${i}.conv1` });
    y = net.conv(net.relu(net.bn(y)), growth, { bias: false, name: `${name}.${i}.conv2` });
    x = net.concat([x, y], `${name}.${i}.concat`);
  }
  return x;
}

function denseNet(seed = DEFAULT_SEED): ModelProto {
  const net = new Net('dense-net', seed, ['N', 3, 32, 32]);
  let x = net.conv(net.input, 16, { bias: false, name: 'stem' });
  x = denseBlock(net, x, 3, 8, 'dense1');
  // Transition: halve channels with a 1x1 conv, halve resolution with 2x2 average pooling.
  x = net.conv(net.relu(net.bn(x)), net.channels(x) / 2, { k: 1, bias: false, name: 'transition.conv' });
  x = net.avgpool(x, { k: 2, name: 'transition.pool' });
  x = denseBlock(net, x, 2, 8, 'dense2');
  x = net.relu(net.bn(x), 'features');
  return net.finish([classifier(net, net.flatten(net.gap(x)))]);
}

/** AlexNet's layer pattern: LRN after the first two convs, overlapping 3/2 pooling, dropout in the classifier. */
function alexnet(seed = DEFAULT_SEED): ModelProto {
  const net = new Net('alexnet', seed, ['N', 3, 32, 32]);
  let x = net.lrn(net.relu(net.conv(net.input, 16, { k: 5 })));
  x = net.maxpool(x, { k: 3, stride: 2, ceil: true }); // Caffe's AlexNet rounds pooled sizes up: 32 -> 16
  x = net.lrn(net.relu(net.conv(x, 32, { k: 5 })));
  x = net.maxpool(x, { k: 3, stride: 2 }); // 16 -> 7
  x = net.relu(net.conv(x, 48));
  x = net.relu(net.conv(x, 32), 'features');
  x = net.flatten(net.maxpool(x, { k: 3, stride: 2 })); // 7 -> 3
  x = net.relu(net.gemm(net.dropout(x), 64));
  x = net.relu(net.gemm(net.dropout(x), 64));
  return net.finish([classifier(net, x)]);
}

/**
 * `x.view(x.size(0), -1)` as torch.onnx.export writes it:
 * Shape -> Gather(0) -> Unsqueeze -> Concat([N, -1]) -> Reshape.
 */
function torchView(net: Net, x: string): string {
  const [n, ...rest] = net.shape(x);
  const b = net.b;
  const shape = net.emit('Shape', [x], {}, [4]);
  const zero = b.constant('gather_index', { dataType: DataType.INT64, dims: [], data: BigInt64Array.of(0n) });
  const batch = net.emit('Gather', [shape, zero], { axis: 0 }, []);
  const batch1 = net.emit('Unsqueeze', [batch, b.int64s('unsqueeze_axes', [0])], {}, [1]);
  const target = net.emit('Concat', [batch1, b.int64s('minus_one', [-1])], { axis: 0 }, [2]);
  const features = rest.reduce<number>((p, d) => p * (d as number), 1);
  return net.emit('Reshape', [x, target], {}, [n!, features]);
}

function torchFlatten(seed = DEFAULT_SEED): ModelProto {
  const net = new Net('torch-flatten', seed, ['N', 3, 16, 16]);
  let x = net.maxpool(net.relu(net.conv(net.input, 8)), { k: 2 });
  x = net.relu(net.conv(x, 16), 'features');
  x = net.maxpool(x, { k: 2 });
  return net.finish([classifier(net, torchView(net, x))]);
}

/**
 * A feature pyramid's top-down path (Lin et al. 2017): the coarser map, upsampled 2x by
 * nearest neighbour, plus a 1x1 lateral projection of the finer map.
 */
function fpn(seed = DEFAULT_SEED): ModelProto {
  const net = new Net('fpn', seed, ['N', 3, 32, 32]);
  const c2 = net.relu(net.conv(net.input, 16, { stride: 2, name: 'c2' })); // 16x16
  const c3 = net.relu(net.conv(c2, 32, { stride: 2, name: 'c3' })); // 8x8
  const c4 = net.relu(net.conv(c3, 32, { stride: 2, name: 'c4' })); // 4x4
  const lateral = (c: string, name: string): string => net.conv(c, 16, { k: 1, gain: 1, name });
  let p = lateral(c4, 'p4');
  p = net.add(net.resize(p, 2), lateral(c3, 'lateral3'), 'p3');
  p = net.add(net.resize(p, 2), lateral(c2, 'lateral2'), 'p2');
  const x = net.relu(net.conv(p, 16, { name: 'smooth' }), 'features');
  return net.finish([classifier(net, net.flatten(net.gap(x)))]);
}

function softmaxHead(seed = DEFAULT_SEED): ModelProto {
  const net = new Net('softmax-head', seed, ['N', 3, 16, 16]);
  let x = net.relu(net.conv(net.input, 8, { stride: 2 }));
  x = net.relu(net.conv(x, 16), 'features');
  const logits = classifier(net, net.flatten(net.gap(x)));
  return net.finish([net.softmax(logits, 'probs')]);
}

function nhwcInput(seed = DEFAULT_SEED): ModelProto {
  const net = new Net('nhwc-input', seed, ['N', 16, 16, 3]);
  let x = net.transpose(net.input, [0, 3, 1, 2], 'to_nchw');
  x = net.relu(net.conv(x, 8));
  x = net.relu(net.conv(x, 16, { stride: 2 }), 'features');
  return net.finish([classifier(net, net.flatten(net.gap(x)))]);
}

export const zoo: Record<string, ZooModel> = {
  'tiny-vgg': {
    build: tinyVgg,
    inputShape: nchw(32),
    description: 'VGG-style: 3x3 conv/relu pairs, 2x2 max-pools, flatten, one gemm',
    spatialLayer: 'features',
  },
  'tiny-resnet': {
    build: tinyResnet,
    inputShape: nchw(32),
    description: 'ResNet basic blocks with conv-bn-relu, residual Add, one 1x1 stride-2 projection shortcut, GAP, gemm',
    spatialLayer: 'block2.relu',
  },
  'mobilenet-v2': {
    build: mobilenetV2,
    inputShape: nchw(32),
    description: 'MobileNetV2: inverted residuals with depthwise convs, Clip(0, 6), stride 2, Add shortcuts',
    spatialLayer: 'features',
  },
  'se-hardswish': {
    build: seHardswish,
    inputShape: nchw(32),
    description: 'MobileNetV3-style: squeeze-excitation gates (Sigmoid and HardSigmoid, broadcast Mul), HardSwish',
    spatialLayer: 'features',
  },
  'dense-net': {
    build: denseNet,
    inputShape: nchw(32),
    description: 'DenseNet-BC: Concat of features, BN/relu/1x1 bottlenecks, AveragePool transition',
    spatialLayer: 'features',
  },
  alexnet: {
    build: alexnet,
    inputShape: nchw(32),
    description: 'AlexNet-style: LRN, overlapping 3/2 max-pools (one ceil_mode), Dropout, two hidden Gemm+Relu',
    spatialLayer: 'features',
  },
  'torch-flatten': {
    build: torchFlatten,
    inputShape: nchw(16),
    description: 'flatten as PyTorch exports x.view(x.size(0), -1): Shape, Gather, Unsqueeze, Concat, Reshape',
    spatialLayer: 'features',
  },
  fpn: {
    build: fpn,
    inputShape: nchw(32),
    description: 'feature-pyramid top-down path: nearest 2x Resize of a coarse map + 1x1 lateral of a finer one',
    spatialLayer: 'features',
  },
  'softmax-head': {
    build: softmaxHead,
    inputShape: nchw(16),
    description: 'ends in Softmax: the output "probs" is probabilities, its input "logits" the scores',
    spatialLayer: 'features',
  },
  'nhwc-input': {
    build: nhwcInput,
    inputShape: (batch) => [batch, 16, 16, 3],
    description: 'NHWC input followed by Transpose(0, 3, 1, 2) as tf2onnx exports, then convs',
    spatialLayer: 'features',
  },
};
