/**
 * Fold inference BatchNormalization into the Conv before it (as onnxruntime does for the
 * forward pass), so that the backward pass needs no per-channel Mul either:
 *   f = scale / sqrt(var + eps),  W'[m] = f[m] W[m],  b'[m] = f[m] (b[m] - mean[m]) + B[m].
 * Only where the Conv output feeds nothing but the BN and is not a requested tensor, and
 * only on the way of the backward pass (`downstream` of the differentiated tensors): the
 * rest is forward only, where onnxruntime fuses Conv and BN itself (folding ResNet-50's
 * 25M weights in JavaScript costs a quarter of a second that Grad-CAM, whose backward
 * pass starts at the last block, would not use).
 */
import type { NodeProto } from '../model/onnx-proto.ts';
import { attrFloat, attrInt } from '../model/attributes.ts';
import { GraphView } from '../model/graph-view.ts';
import { DataType, makeTensorProto, type TensorValue } from '../model/tensor-data.ts';
import type { Specialized } from '../runtime/specialize.ts';

function floats(v: TensorValue | undefined): Float64Array | undefined {
  if (!v || (v.dataType !== DataType.FLOAT && v.dataType !== DataType.DOUBLE)) return undefined;
  return Float64Array.from(v.data as Float32Array);
}

export function foldBatchNorms(s: Specialized, keep: ReadonlySet<string>, from: Iterable<string>): Specialized {
  const view = s.view;
  const downstream = reachableFrom(view, from);
  const outputs = new Set(view.outputs.map((o) => o.name));
  const replaced = new Map<NodeProto, NodeProto | null>();
  const initializers = [];
  const shapes = new Map(s.shapes);
  for (const bn of view.nodes) {
    if (bn.opType !== 'BatchNormalization' || attrInt(bn, 'training_mode', 0) !== 0 || bn.output.filter(Boolean).length !== 1) continue;
    const x = bn.input[0]!;
    if (!downstream.has(x)) continue;
    const conv = view.producer(x)?.node;
    if (!conv || conv.opType !== 'Conv' || keep.has(x) || outputs.has(x) || view.consumers(x).length !== 1) continue;
    const w = view.constant(conv.input[1]!);
    const wData = w && (w.dataType === DataType.FLOAT || w.dataType === DataType.DOUBLE) ? (w.data as Float32Array | Float64Array) : undefined;
    const bias = conv.input[2] ? floats(view.constant(conv.input[2])) : undefined;
    const [scale, beta, mean, variance] = bn.input.slice(1).map((t) => floats(view.constant(t)));
    if (!w || !wData || (conv.input[2] && !bias) || !scale || !beta || !mean || !variance) continue;
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const M = w.dims[0]!;
    const per = wData.length / M;
    const f = scale.map((g, m) => g / Math.sqrt(variance[m]! + eps));
    // In the weights' own precision (products taken in float64, as numbers are).
    const folded = w.dataType === DataType.DOUBLE ? new Float64Array(wData.length) : new Float32Array(wData.length);
    for (let m = 0; m < M; m++) {
      const fm = f[m]!;
      for (let i = m * per, end = i + per; i < end; i++) folded[i] = wData[i]! * fm;
    }
    const newBias = f.map((fm, m) => fm * ((bias?.[m] ?? 0) - mean[m]!) + beta[m]!);
    const like = (data: Float32Array | Float64Array, dims: number[]): TensorValue => ({ dataType: w.dataType, dims, data: w.dataType === DataType.DOUBLE || data instanceof Float32Array ? data : Float32Array.from(data) });
    const wName = `${conv.name}/bn_folded_weight`;
    const bName = `${conv.name}/bn_folded_bias`;
    initializers.push(makeTensorProto(wName, like(folded, w.dims)), makeTensorProto(bName, like(newBias, [M])));
    shapes.set(wName, w.dims);
    shapes.set(bName, [M]);
    replaced.set(conv, { ...conv, input: [conv.input[0]!, wName, bName], output: [bn.output[0]!] });
    replaced.set(bn, null);
  }
  if (replaced.size === 0) return s;
  const node = view.nodes.map((n) => (replaced.has(n) ? replaced.get(n) : n)).filter((n): n is NodeProto => !!n);
  const graph = { ...s.model.graph!, node, initializer: [...(s.model.graph!.initializer ?? []), ...initializers] };
  return { ...s, model: { ...s.model, graph }, view: new GraphView(graph), shapes };
}

/** The tensors computed from any of `from` (themselves included). */
function reachableFrom(view: GraphView, from: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  for (const stack = [...from]; stack.length > 0; ) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    for (const node of view.consumers(t)) stack.push(...node.output.filter(Boolean));
  }
  return seen;
}
