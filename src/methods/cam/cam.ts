/**
 * CAM. Zhou et al. 2016, "Learning Deep Features for Discriminative Localization", eq. 2:
 * M_c(x, y) = sum_k w_k^c f_k(x, y), for a network whose head is global average pooling
 * followed by one fully connected layer (w^c its row for class c). The head is detected
 * in the graph: layer -> GlobalAveragePool (or ReduceMean over the spatial axes) ->
 * Flatten/Reshape/Squeeze -> Gemm or MatMul with a constant weight. In an all-convolutional
 * classifier (SqueezeNet, mini-Xception) pooling gives the class scores themselves (then
 * Softmax, Sigmoid or the output): w is the identity, and the CAM of class c is channel c.
 */
import { ConvlensError } from '../../errors.ts';
import { attrInt } from '../../model/attributes.ts';
import type { NodeProto } from '../../model/onnx-proto.ts';
import { toNumbers } from '../../model/tensor-data.ts';
import type { Specialized } from '../../runtime/specialize.ts';
import type { Method } from '../types.ts';
import { activationCams } from './activation-cams.ts';
import { weightedSum } from './base.ts';

const PASS = new Set(['Flatten', 'Reshape', 'Squeeze', 'Identity', 'Transpose']);
/** What may follow pooling when the pooled values are the class scores. */
const SCORES = new Set(['Softmax', 'LogSoftmax', 'Sigmoid']);

export class CamHeadError extends ConvlensError {
  override name = 'CamHeadError';
}

/** Class weights [classes, K] of the fully connected layer after global pooling of `layer`. */
export function camHead(s: Specialized, layer: string): { weights: Float32Array; classes: number; channels: number } {
  const only = (t: string): NodeProto | undefined => {
    const c = s.view.consumers(t);
    return c.length === 1 ? c[0] : undefined;
  };
  const fail = (what: string) =>
    new CamHeadError(`CAM needs '${layer}' to feed global average pooling and then one fully connected layer, but ${what}: use grad-cam (equal to CAM up to scale on such models) or choose the layer before global pooling`);
  const pool = only(layer);
  const pooledToOne = pool !== undefined && s.shapes.get(pool.output[0]!)?.slice(2).every((d) => d === 1);
  // An unpadded AveragePool whose window is the whole map (Keras AveragePooling2D(7) in MobileNetV2) is global pooling too.
  const kernel = pool?.attribute?.find((a) => a.name === 'kernel_shape')?.ints?.map(Number);
  const wholeWindow = pool?.opType === 'AveragePool' && kernel?.join() === s.shapes.get(layer)?.slice(2).join() && (pool.attribute ?? []).every((a) => a.name !== 'pads' || (a.ints ?? []).every((p) => Number(p) === 0));
  const isGap = pool && (pool.opType === 'GlobalAveragePool' || ((pool.opType === 'ReduceMean' || wholeWindow) && pooledToOne));
  if (!pool || !isGap) throw fail(`it feeds ${s.view.consumers(layer).map((n) => n.opType).join(', ') || 'nothing'}`);
  let t = pool.output[0]!;
  let fc = only(t);
  while (fc && PASS.has(fc.opType)) {
    t = fc.output[0]!;
    fc = only(t);
  }
  const channels = s.shapes.get(layer)![1]!;
  if ((fc ? SCORES.has(fc.opType) : s.view.consumers(t).length === 0) && s.shapes.get(t)?.[1] === channels) {
    const weights = new Float32Array(channels * channels);
    for (let c = 0; c < channels; c++) weights[c * channels + c] = 1;
    return { weights, classes: channels, channels };
  }
  if (!fc || (fc.opType !== 'Gemm' && fc.opType !== 'MatMul')) throw fail(`pooling feeds ${fc?.opType ?? 'several nodes'}`);
  const w = s.view.constant(fc.input[1]!);
  if (!w || w.dims.length !== 2) throw fail('the fully connected weight is not a constant matrix');
  const values = toNumbers(w.data);
  const transB = fc.opType === 'Gemm' && attrInt(fc, 'transB', 0) === 1;
  const classes = transB ? w.dims[0]! : w.dims[1]!;
  if ((transB ? w.dims[1] : w.dims[0]) !== channels) throw fail('the fully connected weight does not match the layer\'s channels');
  const weights = new Float32Array(classes * channels);
  for (let c = 0; c < classes; c++) for (let k = 0; k < channels; k++) weights[c * channels + k] = transB ? values[c * channels + k]! : values[k * classes + c]!;
  return { weights, classes, channels };
}

export const cam: Method<Record<string, never>> = {
  id: 'cam',
  family: 'cam',
  output: 'map',
  usesLayers: true,
  needsGradients: false,
  relu: false,
  paper: 'Zhou et al. 2016, https://arxiv.org/abs/1512.04150 (eq. 2)',
  summary: 'The class weights of a global-average-pooling head applied to the last feature maps.',
  options: [],
  run: async (ctx) => {
    const heads = new Map(ctx.layers.map((l) => [l.tensor, camHead(ctx.specialized, l.tensor)]));
    return activationCams(ctx, ({ A, channels, height, width }, row, layer) => {
      const head = heads.get(layer)!;
      const c = ctx.targets.classes[row];
      if (c === undefined) throw new CamHeadError('CAM explains a class: give a class target (not a weight tensor or region)');
      const sign = ctx.options.counterfactual ? -1 : 1;
      const w = head.weights.subarray(c * channels, (c + 1) * channels).map((v) => sign * v);
      return weightedSum(A, w, channels, height * width);
    });
  },
};
