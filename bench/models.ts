/**
 * Full-size benchmark models with seeded random weights: the layer shapes of torchvision's
 * resnet50 and vgg16 (ImageNet, 3x224x224 input, 1000 classes, batch 'N').
 */
import type { ModelProto } from '../src/model/onnx-proto.ts';
import { Net } from '../test/zoo/net.ts';

export const imagenetInputShape = (batch: number): number[] => [batch, 3, 224, 224];

/** The last conv stage's output (the Grad-CAM layer): the final bottleneck's ReLU, 2048x7x7. */
export const resnet50SpatialLayer = 'layer4.2.relu';

/** The last conv stage's output: relu5_3, 512x14x14 (before the last max-pool). */
export const vgg16SpatialLayer = 'relu5_3';

/**
 * A ResNet-50 bottleneck (He et al. 2016), stride on the 3x3 conv as in torchvision (v1.5).
 * The residual branch's last BN gets a small scale, so that the variance added by each of
 * the 16 blocks stays small and the activations stay O(1) through the network.
 */
function bottleneck(net: Net, x: string, width: number, stride: number, name: string): string {
  const out = width * 4;
  const convBn = (y: string, ch: number, k: number, s: number, i: number): string =>
    net.bn(net.conv(y, ch, { k, stride: s, bias: false, gain: i === 3 ? 1 : 2, name: `${name}.conv${i}` }), {
      gamma: i === 3 ? [0.2, 0.5] : [0.5, 1.5],
      name: `${name}.bn${i}`,
    });
  let y = net.relu(convBn(x, width, 1, 1, 1), `${name}.relu1`);
  y = net.relu(convBn(y, width, 3, stride, 2), `${name}.relu2`);
  y = convBn(y, out, 1, 1, 3);
  const shortcut = stride === 1 && net.channels(x) === out
    ? x
    : net.bn(net.conv(x, out, { k: 1, stride, bias: false, gain: 1, name: `${name}.downsample.0` }), { name: `${name}.downsample.1` });
  return net.relu(net.add(y, shortcut, `${name}.add`), `${name}.relu`);
}

export function resnet50(seed = 1): ModelProto {
  const net = new Net('resnet50', seed, ['N', 3, 224, 224]);
  let x = net.relu(net.bn(net.conv(net.input, 64, { k: 7, stride: 2, pad: 3, bias: false, name: 'conv1' }), { name: 'bn1' }), 'relu');
  x = net.maxpool(x, { k: 3, stride: 2, pad: 1, name: 'maxpool' });
  const stages: [blocks: number, width: number][] = [[3, 64], [4, 128], [6, 256], [3, 512]];
  stages.forEach(([blocks, width], s) => {
    for (let i = 0; i < blocks; i++) x = bottleneck(net, x, width, i === 0 && s > 0 ? 2 : 1, `layer${s + 1}.${i}`);
  });
  x = net.flatten(net.gap(x, 'avgpool'), 'flatten');
  return net.finish([net.gemm(x, 1000, { gain: 1, name: 'logits' })]);
}

/** VGG-16, configuration D of Simonyan and Zisserman (2015): 13 3x3 convs in 5 blocks. */
export function vgg16(seed = 1): ModelProto {
  const net = new Net('vgg16', seed, ['N', 3, 224, 224]);
  const blocks = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];
  let x = net.input;
  blocks.forEach((widths, b) => {
    widths.forEach((w, i) => {
      x = net.relu(net.conv(x, w, { name: `conv${b + 1}_${i + 1}` }), `relu${b + 1}_${i + 1}`);
    });
    x = net.maxpool(x, { k: 2, name: `pool${b + 1}` });
  });
  x = net.flatten(x, 'flatten'); // 512 * 7 * 7 = 25088
  x = net.relu(net.gemm(x, 4096, { name: 'fc6' }), 'relu6');
  x = net.relu(net.gemm(x, 4096, { name: 'fc7' }), 'relu7');
  return net.finish([net.gemm(x, 1000, { gain: 1, name: 'logits' })]);
}
