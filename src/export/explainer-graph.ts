/**
 * A standalone explainer: one ONNX graph with the image and a class index in and the
 * method's map out, runnable by any ONNX runtime with no convlens code (the basis for
 * serving explanations at scale). It is the compiled gradient graph plus a small head:
 *   target_class [N] (int64) -> one-hot target weights (in the graph);
 *   gradient / guided-backprop / deconvnet: dS/dx;  input-x-gradient: x * dS/dx;
 *   saliency: max over channels of |dS/dx| (Simonyan et al. 2014);
 *   grad-cam: ReLU(sum_k mean_ij(dS/dA_k) A_k) (Selvaraju et al. 2017, eq. 1-2), resized to
 *   the input (bilinear, half-pixel) and min-max normalized per image, as the library does.
 * The library computes the same maps in JavaScript; test/export.test.ts checks that the two
 * agree, so the head cannot drift from the methods.
 */
import type { GraphProto, ModelProto } from '../model/onnx-proto.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { DataType } from '../model/tensor-data.ts';
import { compileSpecialized, specializeFor } from '../autodiff/compile.ts';
import type { RuleSetName } from '../autodiff/rulesets.ts';
import { resolveLayers, type LayerRef } from '../targets/layers.ts';
import { ConvlensError } from '../errors.ts';

export const exportableMethods = ['gradient', 'saliency', 'input-x-gradient', 'guided-backprop', 'deconvnet', 'grad-cam'] as const;
export type ExportableMethod = (typeof exportableMethods)[number];

const rulesOf: Record<ExportableMethod, RuleSetName> = {
  gradient: 'gradient', saliency: 'gradient', 'input-x-gradient': 'gradient', 'guided-backprop': 'guided', deconvnet: 'deconvnet', 'grad-cam': 'gradient',
};

export const TARGET_CLASS = 'target_class';
export const EXPLANATION = 'explanation';

export async function exportExplainer(model: ModelProto, options: { method: string; inputShape: number[]; layer?: LayerRef }): Promise<ModelProto> {
  const method = options.method as ExportableMethod;
  if (!exportableMethods.includes(method)) {
    throw new ConvlensError(`method '${options.method}' cannot be exported as one graph (exportable: ${exportableMethods.join(', ')})`);
  }
  const s = await specializeFor(model, { inputShape: options.inputShape });
  const input = s.view.inputs[0]!.name;
  const layer = method === 'grad-cam' ? resolveLayers(s, options.layer === undefined ? undefined : [options.layer])[0]! : undefined;
  const wrt = layer ? layer.tensor : input;
  const compiled = compileSpecialized(s, { inputShape: options.inputShape, wrt: [wrt], expose: layer ? [layer.tensor] : [], rules: rulesOf[method] });
  const graph = compiled.model.graph!;
  const b = new GraphBuilder([...graph.node.flatMap((n) => [...n.output, n.name ?? '']), ...(graph.initializer ?? []).map((t) => t.name ?? ''), ...(graph.input ?? []).map((i) => i.name), TARGET_CLASS, EXPLANATION]);
  const [n, classes] = [compiled.targetShape[0]!, compiled.targetShape[1]!];

  // target_class [N] -> weights [N, classes] (one-hot), feeding the compiled graph's seed.
  const range = b.constant('class_range', { dataType: DataType.INT64, dims: [1, classes], data: BigInt64Array.from({ length: classes }, (_, i) => BigInt(i)) });
  const column = b.op('Unsqueeze', [TARGET_CLASS, b.int64s('axis1', [1])], {}, 'target_class_column');
  const hit = b.op('Equal', [range, column], {}, 'is_target');
  const onehot = b.op('Cast', [hit], { to: DataType.FLOAT }, 'target_onehot');
  const rest = compiled.targetShape.slice(2);
  const weights = rest.length ? b.op('Reshape', [onehot, b.int64s('weight_shape', [n, classes, ...rest.map(() => 1)])], {}, 'target_onehot_dense') : onehot;
  const targetNodes = b.nodes.splice(0);
  // Reduce* take axes as an attribute before opset 18 and as an input from 18 on.
  const opset = Number(compiled.model.opsetImport?.find((o) => !o.domain)?.version ?? 17);
  const reduce = (op: string, x: string, axes: number[], keepdims: number, name: string) =>
    opset >= 18 ? b.op(op, [x, b.int64s(`${name}_axes`, axes)], { keepdims }, name) : b.op(op, [x], { axes, keepdims }, name);

  const g = compiled.gradients[wrt]!;
  const shape = compiled.shapes.get(input)!;
  const [H, W] = [shape[2]!, shape[3]!];
  let out: string;
  if (method === 'saliency') out = reduce('ReduceMax', b.op('Abs', [g], {}, 'abs_grad'), [1], 0, 'saliency');
  else if (method === 'input-x-gradient') out = b.op('Mul', [input, g], {}, 'input_x_gradient');
  else if (method === 'grad-cam') {
    const alpha = reduce('ReduceMean', g, [2, 3], 1, 'alpha');
    const cam = b.op('Relu', [b.op('ReduceSum', [b.op('Mul', [alpha, layer!.tensor], {}, 'weighted'), b.int64s('channel_axis', [1])], { keepdims: 1 }, 'cam_sum')], {}, 'cam');
    const resized = b.op('Resize', [cam, '', '', b.int64s('input_size', [n, 1, H, W])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }, 'cam_resized');
    const lo = reduce('ReduceMin', resized, [1, 2, 3], 1, 'cam_min');
    const hi = reduce('ReduceMax', resized, [1, 2, 3], 1, 'cam_max');
    const range01 = b.op('Sub', [hi, lo], {}, 'cam_range');
    // Zero guard: a constant map divides by 1 (and comes out all zero).
    const safe = b.op('Where', [b.op('Greater', [range01, b.scalar('zero', 0)], {}, 'has_range'), range01, b.scalar('one', 1)], {}, 'cam_divisor');
    out = b.op('Reshape', [b.op('Div', [b.op('Sub', [resized, lo], {}, 'cam_shifted'), safe], {}, 'cam_normalized'), b.int64s('map_shape', [n, H, W])], {}, 'grad_cam');
  } else out = g;
  b.nodes.push({ name: 'explanation', opType: 'Identity', domain: '', input: [out], output: [EXPLANATION], attribute: [] });

  const vi = (name: string, elemType: number, dims: number[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const nodes = [...targetNodes, ...graph.node.map((node) => ({ ...node, input: node.input.map((i) => (i === compiled.targetWeight ? weights : i)) })), ...b.nodes];
  const outGraph: GraphProto = {
    ...graph,
    node: nodes,
    initializer: [...(graph.initializer ?? []), ...b.initializers],
    input: [...(graph.input ?? []).filter((i) => i.name !== compiled.targetWeight), vi(TARGET_CLASS, DataType.INT64, [n])],
    output: [{ ...vi(EXPLANATION, DataType.FLOAT, []), type: { tensorType: { elemType: DataType.FLOAT } } }, ...compiled.outputs.map((o) => graph.output!.find((x) => x.name === o)!)],
  };
  return { ...compiled.model, graph: outGraph };
}
