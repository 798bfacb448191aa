/**
 * Element types of every tensor, inferred from the graph inputs, the initializers and the
 * few ops whose output type is not that of their first input.
 */
import type { NodeProto } from './onnx-proto.ts';
import { attrInt, attrTensor } from './attributes.ts';
import { DataType } from './tensor-data.ts';
import type { GraphView } from './graph-view.ts';

const INT64_OUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);
const BOOL_OUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);

function outputType(node: NodeProto, index: number, inputType: (i: number) => number | undefined): number | undefined {
  const op = node.opType;
  if (INT64_OUT.has(op)) return DataType.INT64;
  if (BOOL_OUT.has(op)) return DataType.BOOL;
  if ((op === 'MaxPool' || op === 'TopK') && index === 1) return DataType.INT64;
  if (op === 'Cast') return attrInt(node, 'to', DataType.FLOAT);
  if (op === 'Constant') return attrTensor(node, 'value')?.dataType ?? (node.attribute?.some((a) => a.name.startsWith('value_int')) ? DataType.INT64 : DataType.FLOAT);
  if (op === 'ConstantOfShape') return attrTensor(node, 'value')?.dataType ?? DataType.FLOAT;
  if (op === 'Where') return inputType(1);
  if (op === 'If') return undefined;
  return inputType(0);
}

export function inferDtypes(view: GraphView): Map<string, number> {
  const types = new Map<string, number>();
  for (const i of view.graph.input ?? []) {
    const t = i.type?.tensorType?.elemType;
    if (t) types.set(i.name, t);
  }
  for (const t of view.graph.initializer ?? []) types.set(t.name ?? '', t.dataType ?? DataType.FLOAT);
  for (const vi of [...(view.graph.valueInfo ?? []), ...(view.graph.output ?? [])]) {
    const t = vi.type?.tensorType?.elemType;
    if (t) types.set(vi.name, t);
  }
  for (const node of view.nodes) {
    node.output.forEach((name, index) => {
      if (!name || types.has(name)) return;
      let t = outputType(node, index, (i) => (node.input[i] ? types.get(node.input[i]!) : undefined));
      if (t === undefined && node.opType === 'If') {
        const g = node.attribute?.find((a) => a.name === 'then_branch')?.g;
        t = g?.output?.[index]?.type?.tensorType?.elemType;
      }
      types.set(name, t ?? DataType.FLOAT);
    });
  }
  return types;
}

export function isFloatType(t: number | undefined): boolean {
  return t === DataType.FLOAT || t === DataType.DOUBLE || t === DataType.FLOAT16;
}
