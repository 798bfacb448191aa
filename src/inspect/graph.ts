/**
 * `modelGraph(s)`: the model as a diagram graph (boxes and edges, no geometry) for the
 * structure view: one box per compute node, or, with `collapse`, one box per
 * Conv -> BatchNormalization -> activation run in which each node feeds only the next
 * (torchvision's `Conv2dNormActivation`, Keras' `Conv2D(activation=...)`). Constant nodes
 * and shape-only computations are hidden.
 * Every box lists the ONNX nodes it covers, so a click on it maps back to layers.
 */
import type { NodeProto } from '../model/onnx-proto.ts';
import { attrInt, attrInts } from '../model/attributes.ts';
import type { Specialized } from '../runtime/specialize.ts';
import { dynamicTensors, summarize, type SummaryRow } from './summary.ts';

export type DiagramKind = 'conv' | 'norm' | 'activation' | 'pool' | 'linear' | 'merge' | 'reshape' | 'other' | 'io';

export interface DiagramNode {
  id: string;
  /** Two lines: what the box computes (e.g. `Conv 3x3/2 + BN + Relu`), its output shape. */
  label: [op: string, shape: string];
  kind: DiagramKind;
  /** Names of the ONNX nodes the box covers, in graph order (none for input/output boxes). */
  nodes: string[];
  parameters: number;
  macs: number;
}

export interface DiagramEdge {
  from: string;
  to: string;
}

export interface DiagramGraph {
  nodes: DiagramNode[];
  edges: DiagramEdge[];
}

export interface ModelGraphOptions {
  /** Merge Conv/Gemm -> BatchNormalization -> activation runs (see RUN) into one box (default true). */
  collapse?: boolean;
}

const KINDS: Record<Exclude<DiagramKind, 'merge' | 'io'>, readonly string[]> = {
  conv: ['Conv', 'ConvTranspose', 'ConvInteger', 'QLinearConv', 'DeformConv'],
  norm: ['BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'GroupNormalization', 'LRN', 'LpNormalization', 'MeanVarianceNormalization'],
  activation: [
    'Relu', 'Clip', 'LeakyRelu', 'PRelu', 'HardSwish', 'HardSigmoid', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'Celu', 'Gelu',
    'Mish', 'Softplus', 'Softsign', 'ThresholdedRelu', 'Softmax', 'LogSoftmax', 'Hardmax',
  ],
  pool: ['MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool', 'MaxRoiPool', 'RoiAlign', 'Resize', 'Upsample', 'ReduceMean', 'ReduceMax'],
  linear: ['Gemm', 'MatMul', 'MatMulInteger', 'QLinearMatMul', 'Einsum'],
  reshape: [
    'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout', 'Pad', 'Slice', 'Split', 'Gather',
    'Tile', 'Expand', 'DepthToSpace', 'SpaceToDepth', 'Cast',
  ],
  other: [],
};
const KIND_OF = new Map<string, DiagramKind>(Object.entries(KINDS).flatMap(([kind, ops]) => ops.map((op) => [op, kind as DiagramKind])));
/** Ops that join branches when two or more of their inputs are computed tensors. */
const MERGE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Sum', 'Mean', 'Max', 'Min', 'Concat']);

/**
 * The stages of a collapsible run, each optional after the first node: a convolution or
 * Gemm, a BatchNormalization, an activation (`Conv + BN + Relu`, `Conv + Relu`,
 * `Gemm + Relu`, and the pre-activation `BN + Relu` of DenseNet and ResNet v2).
 */
const RUN: readonly ReadonlySet<string>[] = [
  new Set(['Conv', 'ConvTranspose', 'Gemm']),
  new Set(['BatchNormalization']),
  new Set(KINDS.activation.filter((op) => !['Softmax', 'LogSoftmax', 'Hardmax'].includes(op))),
];
const SHORT: Record<string, string> = { BatchNormalization: 'BN' };

export const formatDims = (shape: readonly number[]): string => (shape.length ? shape.join('x') : 'scalar');

export function modelGraph(s: Specialized, options: ModelGraphOptions = {}): DiagramGraph {
  const collapse = options.collapse ?? true;
  const view = s.view;
  const rows = new Map<NodeProto, SummaryRow>();
  const summary = summarize(s);
  view.nodes.forEach((node, i) => rows.set(node, summary.rows[i]!));
  const compute = view.nodes.filter((n) => rows.get(n)!.kind === 'compute');
  const dynamic = dynamicTensors(view);

  // Boxes: runs when collapsing, single nodes otherwise.
  const graphOutputs = new Set(view.outputs.map((o) => o.name));
  const soleNext = (node: NodeProto): NodeProto | undefined => {
    const out = node.output[0];
    if (!out || graphOutputs.has(out) || node.output.slice(1).some((o) => o && view.consumers(o).length > 0)) return undefined;
    const consumers = view.consumers(out);
    const next = consumers.length === 1 ? consumers[0]! : undefined;
    // The next node reads this one's output as its data input and no other computed tensor.
    return next && next.input[0] === out && next.input.slice(1).every((t) => !dynamic.has(t)) ? next : undefined;
  };
  const runs: NodeProto[][] = [];
  const covered = new Set<NodeProto>();
  for (const node of compute) {
    if (covered.has(node)) continue;
    const run = [node];
    const start = collapse ? RUN.findIndex((stage) => stage.has(node.opType)) : -1;
    if (start >= 0 && start < RUN.length - 1) {
      for (const stage of RUN.slice(start + 1)) {
        const next = soleNext(run.at(-1)!);
        if (next && stage.has(next.opType)) run.push(next);
      }
    }
    for (const n of run) covered.add(n);
    runs.push(run);
  }

  const boxOf = new Map<string, string>(); // tensor -> id of the box that computes it
  const nodes: DiagramNode[] = [];
  const edges: DiagramEdge[] = [];
  const seen = new Set<string>();
  const connect = (from: string | undefined, to: string): void => {
    if (from === undefined || from === to || seen.has(`${from}\n${to}`)) return;
    seen.add(`${from}\n${to}`);
    edges.push({ from, to });
  };
  view.inputs.forEach((input, i) => {
    const id = `input${i}`;
    nodes.push({ id, label: [`Input: ${input.name}`, formatDims(s.shapes.get(input.name) ?? [])], kind: 'io', nodes: [], parameters: 0, macs: 0 });
    boxOf.set(input.name, id);
  });
  runs.forEach((run, i) => {
    const id = `n${i}`;
    const head = run[0]!, last = run.at(-1)!;
    const lastRow = rows.get(last)!;
    const op = run.map((n) => (run.length > 1 ? SHORT[n.opType] : undefined) ?? describe(s, n)).join(' + ');
    const kind = KIND_OF.get(head.opType) ?? (MERGE.has(head.opType) && head.input.filter((t) => t && dynamic.has(t)).length >= 2 ? 'merge' : 'other');
    const covers = run.map((n) => rows.get(n)!);
    nodes.push({
      id,
      label: [op, formatDims(lastRow.shape)],
      kind,
      nodes: covers.map((r) => r.node),
      parameters: covers.reduce((a, r) => a + r.parameters, 0),
      macs: covers.reduce((a, r) => a + r.macs, 0),
    });
    for (const n of run) for (const t of n.input) if (t && dynamic.has(t)) connect(boxOf.get(t), id);
    for (const n of run) for (const o of n.output) if (o) boxOf.set(o, id);
  });
  view.outputs.forEach((output, i) => {
    const id = `output${i}`;
    nodes.push({ id, label: [`Output: ${output.name}`, formatDims(s.shapes.get(output.name) ?? [])], kind: 'io', nodes: [], parameters: 0, macs: 0 });
    connect(boxOf.get(output.name), id);
  });
  return { nodes, edges };
}

/** `Conv 3x3/2`, `Conv 3x3 dw`, `MaxPool 3x3/2`: the op with its window geometry. */
function describe(s: Specialized, node: NodeProto): string {
  const op = node.opType;
  if (!['Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool'].includes(op)) return op;
  const weight = node.input[1] ? s.shapes.get(node.input[1]) : undefined;
  const kernel = attrInts(node, 'kernel_shape') ?? (op.startsWith('Conv') ? weight?.slice(2) : undefined) ?? [];
  const strides = attrInts(node, 'strides') ?? [];
  const dilations = attrInts(node, 'dilations') ?? [];
  let text = `${op} ${kernel.join('x')}`;
  if (strides.some((v) => v !== 1)) text += `/${[...new Set(strides)].join('x')}`;
  if (dilations.some((v) => v !== 1)) text += ` d${[...new Set(dilations)].join('x')}`;
  const group = attrInt(node, 'group', 1);
  if (group > 1) {
    const channels = node.input[0] ? s.shapes.get(node.input[0])?.[1] : undefined;
    text += group === channels ? ' dw' : ` g${group}`;
  }
  return text;
}
