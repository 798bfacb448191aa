/**
 * `summarize(s)`: a Keras-style model summary of a specialized model, one row per node with
 * its output shape for the specialized input size, its parameters and its multiply-
 * accumulates (MACs).
 *
 * Conventions (those of common FLOP counters such as fvcore, thop and ptflops' conv/linear
 * counts):
 * - MACs are counted for Conv, ConvTranspose, Gemm and MatMul only, for the whole batch;
 *   bias additions, normalization, activations, pooling and element-wise ops count 0.
 *     Conv:          N * M * prod(out spatial) * (C / group) * prod(kernel)
 *     ConvTranspose: N * C * prod(in spatial) * (M / group) * prod(kernel)
 *     Gemm, MatMul:  prod(broadcast batch dims) * M * N * K
 * - Parameters are the elements of the floating-point stored tensors a node reads
 *   (initializers and Constant node values: weights, biases, BN scale/shift and running
 *   statistics), each counted once, at its first reader in topological order. Integer
 *   tensors (shapes, axes, indices, including those that specialization folds) are graph
 *   structure, not parameters. Stored tensors no node reads are `unusedParameters`, so
 *   parameters + unusedParameters is exactly the size of the model's float initializers
 *   plus its float Constant values.
 */
import type { NodeProto } from '../model/onnx-proto.ts';
import type { GraphView } from '../model/graph-view.ts';
import { subgraphReferences } from '../model/graph-view.ts';
import { attrInt } from '../model/attributes.ts';
import { isFloatType } from '../model/dtypes.ts';
import { elementCount } from '../model/tensor-data.ts';
import type { Specialized } from '../runtime/specialize.ts';

/** `compute`: depends on the input's values; `constant`: depends on stored values (and shapes) only. */
export type NodeKind = 'compute' | 'constant';

export interface SummaryRow {
  node: string;
  op: string;
  kind: NodeKind;
  /** The node's first output tensor. */
  output: string;
  /** Its static shape for the specialized input shape, batch included. */
  shape: number[];
  parameters: number;
  macs: number;
}

export interface ModelSummary {
  inputShapes: Record<string, number[]>;
  rows: SummaryRow[];
  totals: {
    parameters: number;
    /** Float initializers and Constant values that no node reads. */
    unusedParameters: number;
    macs: number;
    /** Node count per op type, most frequent first. */
    nodes: Record<string, number>;
  };
}

const SHAPE_ONLY = new Set(['Shape', 'Size']);

/** Tensors whose values depend on the graph inputs' values (not only on their shapes). */
export function dynamicTensors(view: GraphView): Set<string> {
  const dynamic = new Set(view.inputs.map((i) => i.name));
  for (const node of view.nodes) {
    if (SHAPE_ONLY.has(node.opType)) continue;
    const reads = [...node.input, ...subgraphReferences(node)];
    if (reads.some((t) => dynamic.has(t))) for (const o of node.output) if (o) dynamic.add(o);
  }
  return dynamic;
}

/** Element count of a stored floating-point tensor (initializer or Constant output), else 0. */
function storedFloatElements(s: Specialized, tensor: string): number {
  const stored = s.view.isInitializer(tensor) || s.view.producer(tensor)?.node.opType === 'Constant';
  if (!stored || !isFloatType(s.dtypes.get(tensor))) return 0;
  const dims = s.shapes.get(tensor) ?? s.view.constant(tensor)?.dims;
  return dims ? elementCount(dims) : 0;
}

function shapeOf(s: Specialized, tensor: string | undefined): number[] {
  return tensor === undefined ? [] : (s.shapes.get(tensor) ?? s.view.constant(tensor)?.dims ?? []);
}

/** Multiply-accumulates of one node for the specialized batch (0 for ops not counted). */
export function nodeMacs(s: Specialized, node: NodeProto): number {
  const input = (i: number): number[] => shapeOf(s, node.input[i]);
  const output = shapeOf(s, node.output[0]);
  switch (node.opType) {
    case 'Conv':
      // Each output element: (C / group) * prod(kernel) products; the weight is [M, C/group, k...].
      return elementCount(output) * elementCount(input(1).slice(1));
    case 'ConvTranspose':
      // Each input element is scattered through (M / group) * prod(kernel) products; the weight is [C, M/group, k...].
      return elementCount(input(0)) * elementCount(input(1).slice(1));
    case 'Gemm': {
      const a = input(0);
      const k = attrInt(node, 'transA', 0) ? a[0] : a[1];
      return elementCount(output) * (k ?? 0);
    }
    case 'MatMul':
      return elementCount(output) * (input(0).at(-1) ?? 0);
    default:
      return 0;
  }
}

export function summarize(s: Specialized): ModelSummary {
  const view = s.view;
  const dynamic = dynamicTensors(view);
  const counted = new Set<string>();
  const rows: SummaryRow[] = view.nodes.map((node) => {
    let parameters = 0;
    for (const t of node.input) {
      if (!t || counted.has(t)) continue;
      const n = storedFloatElements(s, t);
      if (n > 0) {
        counted.add(t);
        parameters += n;
      }
    }
    const output = node.output.find((o) => o) ?? '';
    return {
      node: node.name || output,
      op: node.opType,
      kind: node.output.some((o) => dynamic.has(o)) ? 'compute' : 'constant',
      output,
      shape: shapeOf(s, output),
      parameters,
      macs: nodeMacs(s, node),
    };
  });
  const stored = [
    ...(view.graph.initializer ?? []).map((t) => t.name ?? ''),
    ...view.nodes.filter((n) => n.opType === 'Constant').flatMap((n) => n.output),
  ];
  let unusedParameters = 0;
  for (const t of new Set(stored)) if (!counted.has(t)) unusedParameters += storedFloatElements(s, t);
  const nodes = new Map<string, number>();
  for (const r of rows) nodes.set(r.op, (nodes.get(r.op) ?? 0) + 1);
  return {
    inputShapes: s.inputShapes,
    rows,
    totals: {
      parameters: rows.reduce((sum, r) => sum + r.parameters, 0),
      unusedParameters,
      macs: rows.reduce((sum, r) => sum + r.macs, 0),
      nodes: Object.fromEntries([...nodes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    },
  };
}

/** 25610152 -> "25,610,152" (locale-independent). */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 4089184256 -> "4.09 G". */
export function formatMagnitude(n: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, unit] of units) if (n >= scale) return `${(n / scale).toFixed(2)} ${unit}`;
  return String(n);
}

const formatShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** The summary as an aligned text table (name, op, output shape, params, MACs) with totals. */
export function formatSummary(summary: ModelSummary): string {
  const header = ['Node', 'Op', 'Output shape', 'Params', 'MACs'];
  const body = summary.rows.map((r) => [
    r.node,
    r.kind === 'constant' ? `${r.op} (const)` : r.op,
    formatShape(r.shape),
    formatCount(r.parameters),
    formatCount(r.macs),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const numeric = (c: number): boolean => c >= 3;
  const line = (cells: string[]): string =>
    cells.map((cell, c) => (numeric(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const width = widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  const t = summary.totals;
  const inputs = Object.entries(summary.inputShapes).map(([name, shape]) => `${name} ${formatShape(shape)}`).join(', ');
  const ops = Object.entries(t.nodes).map(([op, n]) => `${op} ${n}`).join(', ');
  return [
    `Input: ${inputs}`,
    '='.repeat(width),
    line(header),
    '-'.repeat(width),
    ...body.map(line),
    '='.repeat(width),
    `Total parameters: ${formatCount(t.parameters)} (${formatMagnitude(t.parameters)})`,
    ...(t.unusedParameters > 0 ? [`Unused parameters (read by no node): ${formatCount(t.unusedParameters)}`] : []),
    `MACs (Conv, ConvTranspose, Gemm, MatMul): ${formatCount(t.macs)} (${formatMagnitude(t.macs)})`,
    `Nodes: ${summary.rows.length} (${ops})`,
    '',
  ].join('\n');
}
