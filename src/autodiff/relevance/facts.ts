/**
 * What composites need to know about a graph beyond one node, read once from the
 * specialized model:
 * - which tensors reach the network input through weight-free ops only: the layers that
 *   read them are the "first" layers (zennit composites' first-layer rules: z^B, flat);
 * - which tensors are non-negative (outputs of ReLU, clips at >= 0, sigmoids, pooling and
 *   reshaping of such): there the negative-input terms of z+ and alpha-beta vanish and are
 *   not emitted.
 */
import type { GraphView } from '../../model/graph-view.ts';
import { toNumbers } from '../../model/tensor-data.ts';
import { isWeighted } from './layer.ts';

export interface GraphFacts {
  /** Tensors read by the first linear layers. */
  firstInputs: ReadonlySet<string>;
  nonNegative: ReadonlySet<string>;
}

const NON_NEGATIVE_OUTPUT = new Set(['Relu', 'Sigmoid', 'HardSigmoid', 'Softmax', 'Exp', 'Abs', 'Softplus']);
/** Ops whose output is non-negative when their (data) inputs all are. */
const KEEPS_SIGN = new Set([
  'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Flatten', 'Reshape', 'Transpose', 'Identity', 'Dropout',
  'Squeeze', 'Unsqueeze', 'Resize', 'Slice', 'Gather', 'Concat', 'Add', 'Sum', 'Mul', 'ReduceMax', 'ReduceMean', 'ReduceSum', 'Expand', 'Split',
]);
/** Ops whose non-data inputs are shapes, indices or axes. */
const DATA_ONLY = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Resize', 'Slice', 'Gather', 'Expand', 'Split', 'ReduceMax', 'ReduceMean', 'ReduceSum', 'Dropout']);

export function graphFacts(view: GraphView): GraphFacts {
  const firstInputs = new Set<string>(view.inputs.map((i) => i.name));
  const nonNegative = new Set<string>();
  const constantAtLeast = (t: string | undefined, bound: number) => {
    const v = t ? view.constant(t) : undefined;
    return !!v && toNumbers(v.data).every((x) => x >= bound);
  };
  for (const node of view.nodes) {
    const data = DATA_ONLY.has(node.opType) ? node.input.slice(0, 1) : node.input.filter(Boolean);
    if (!isWeighted(node.opType) && node.input.some((i) => firstInputs.has(i))) for (const o of node.output) firstInputs.add(o);
    const nonNeg =
      NON_NEGATIVE_OUTPUT.has(node.opType) ||
      (node.opType === 'Clip' && constantAtLeast(node.input[1], 0)) ||
      (KEEPS_SIGN.has(node.opType) && data.every((i) => nonNegative.has(i) || constantAtLeast(i, 0)));
    if (nonNeg) for (const o of node.output) if (o) nonNegative.add(o);
  }
  return { firstInputs, nonNegative };
}
