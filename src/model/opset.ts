/**
 * Bring a model to one canonical opset (at least 17, where ScatterElements has
 * reduction="add" and every op convlens emits exists with input-form axes), rewriting the
 * nodes whose form changed between the model's opset and that one:
 * - opset < 13: Squeeze/Unsqueeze/ReduceSum `axes` and Split `split` move from attribute
 *   to input; Softmax/LogSoftmax/Hardmax change from "flatten at axis" to "along axis";
 * - any opset: Dropout (inference) becomes Identity.
 * ReduceMean/ReduceMax/... keep their opset-17 attribute form unless the model is >= 18.
 */
import type { GraphProto, ModelProto, NodeProto } from './onnx-proto.ts';
import { attrInt, attrInts } from './attributes.ts';
import { cloneModel, defaultOpset } from './model.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { GraphView } from './graph-view.ts';

export const COMPILE_OPSET = 17;
const IR_VERSION_FOR_OPSET_17 = 8;

export function normalizeOpset(model: ModelProto): ModelProto {
  const from = defaultOpset(model);
  const to = Math.max(from, COMPILE_OPSET);
  const out = cloneModel(model);
  const names = new GraphView(out.graph!).tensorNames();
  out.graph!.node.forEach((n) => n.name || (n.name = `${n.opType}_${n.output[0] ?? ''}`));
  for (const n of out.graph!.node) names.add(n.name!);
  const b = new GraphBuilder(names);
  rewriteGraph(out.graph!, from, b);
  out.graph!.initializer = [...(out.graph!.initializer ?? []), ...b.initializers];
  for (const o of out.opsetImport ?? []) if (!o.domain || o.domain === 'ai.onnx') o.version = to;
  const ir = typeof out.irVersion === 'number' ? out.irVersion : Number(out.irVersion?.toNumber() ?? 0);
  if (ir < IR_VERSION_FOR_OPSET_17) out.irVersion = IR_VERSION_FOR_OPSET_17;
  return out;
}

const AXES_TO_INPUT_BEFORE_13 = new Set(['Squeeze', 'Unsqueeze', 'ReduceSum']);
const SOFTMAX_LIKE = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);

function rewriteGraph(graph: GraphProto, from: number, b: GraphBuilder): void {
  const nodes: NodeProto[] = [];
  for (const node of graph.node) {
    for (const a of node.attribute ?? []) {
      for (const g of [a.g, ...(a.graphs ?? [])]) if (g) rewriteGraph(g, from, b);
    }
    if (node.opType === 'Dropout' && (node.output.length < 2 || !node.output[1])) {
      nodes.push({ ...node, opType: 'Identity', input: [node.input[0]!], output: [node.output[0]!], attribute: [] });
      continue;
    }
    if (from < 13 && AXES_TO_INPUT_BEFORE_13.has(node.opType)) {
      const axes = attrInts(node, 'axes');
      const rest = (node.attribute ?? []).filter((a) => a.name !== 'axes');
      const input = axes ? [node.input[0]!, b.int64s(`${node.name}/axes`, axes)] : [node.input[0]!];
      nodes.push({ ...node, input, attribute: rest });
      continue;
    }
    if (from < 13 && node.opType === 'Split') {
      const split = attrInts(node, 'split');
      const rest = (node.attribute ?? []).filter((a) => a.name !== 'split');
      const input = split ? [node.input[0]!, b.int64s(`${node.name}/split`, split)] : [node.input[0]!];
      nodes.push({ ...node, input, attribute: rest });
      continue;
    }
    if (from < 13 && SOFTMAX_LIKE.has(node.opType)) {
      // Old semantics: coerce to 2-D at `axis`, normalize each row. Equal to the new
      // semantics along the last axis only when `axis` is the last axis; we cannot know the
      // rank here, so rewrite as Flatten -> op(axis=-1) -> Reshape(back to the input shape).
      const axis = attrInt(node, 'axis', 1);
      const x = node.input[0]!;
      const flat = b.op('Flatten', [x], { axis }, `${node.name}/flatten`);
      const y = b.op(node.opType, [flat], { axis: -1 }, `${node.name}/rows`);
      const shape = b.op('Shape', [x], {}, `${node.name}/shape`);
      nodes.push(...b.nodes.splice(0));
      nodes.push({ name: node.name!, opType: 'Reshape', domain: '', input: [y, shape], output: [node.output[0]!], attribute: [] });
      continue;
    }
    nodes.push(node);
  }
  graph.node = nodes;
}
