/**
 * Reading node attributes (with the defaults the ONNX spec gives when one is absent) and
 * writing them for emitted nodes.
 */
import { ConvlensError } from '../errors.ts';
import { int64ToNumber, type AttributeProto, type GraphProto, type NodeProto } from './onnx-proto.ts';
import { makeTensorProto, readTensorProto, type TensorValue } from './tensor-data.ts';

export const AttributeType = {
  FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8,
} as const;

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function hasAttr(node: NodeProto, name: string): boolean {
  return find(node, name) !== undefined;
}

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = find(node, name);
  return a ? int64ToNumber(a.i) : fallback;
}

export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = find(node, name);
  return a ? (a.f ?? fallback) : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a ? (a.ints ?? []).map(int64ToNumber) : undefined;
}

export function attrFloats(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a ? (a.floats ?? []).slice() : undefined;
}

export function attrString(node: NodeProto, name: string, fallback: string): string {
  const a = find(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : fallback;
}

export function attrTensor(node: NodeProto, name: string): TensorValue | undefined {
  const a = find(node, name);
  return a?.t ? readTensorProto(a.t) : undefined;
}

export function attrGraph(node: NodeProto, name: string): GraphProto | undefined {
  return find(node, name)?.g;
}

/** Attribute values for emitted nodes; names in FLOAT_ATTRS are written as floats. */
export type AttrInput = number | number[] | string | TensorValue;

const FLOAT_ATTRS = new Set(['alpha', 'beta', 'gamma', 'epsilon', 'bias', 'momentum', 'lambd', 'ratio', 'min', 'max', 'cubic_coeff_a', 'extrapolation_value']);

export function makeAttribute(name: string, value: AttrInput): AttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return FLOAT_ATTRS.has(name) ? { name, type: AttributeType.FLOAT, f: value } : { name, type: AttributeType.INT, i: value };
  }
  if (Array.isArray(value)) {
    return FLOAT_ATTRS.has(name) ? { name, type: AttributeType.FLOATS, floats: value } : { name, type: AttributeType.INTS, ints: value };
  }
  return { name, type: AttributeType.TENSOR, t: makeTensorProto('', value) };
}

/**
 * Resolved geometry of a Conv/ConvTranspose/pooling node for an input of `spatial` dims:
 * explicit pads (auto_pad resolved as the spec defines SAME_UPPER/SAME_LOWER/VALID).
 */
export interface WindowGeometry {
  kernel_shape: number[];
  strides: number[];
  dilations: number[];
  /** [x1_begin, x2_begin, ..., x1_end, x2_end, ...] */
  pads: number[];
  ceil_mode: number;
}

export function windowGeometry(node: NodeProto, spatial: readonly number[], kernelFromWeight?: readonly number[]): WindowGeometry {
  const r = spatial.length;
  const kernel_shape = attrInts(node, 'kernel_shape') ?? kernelFromWeight?.slice() ?? [];
  if (kernel_shape.length !== r) throw new ConvlensError(`${node.opType} '${node.name}': kernel_shape has ${kernel_shape.length} dims for ${r} spatial dims`);
  const strides = attrInts(node, 'strides') ?? new Array<number>(r).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(r).fill(1);
  const ceil_mode = attrInt(node, 'ceil_mode', 0);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads') ?? new Array<number>(2 * r).fill(0);
  if (autoPad === 'VALID') pads = new Array<number>(2 * r).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * r).fill(0);
    for (let i = 0; i < r; i++) {
      const out = Math.ceil(spatial[i]! / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel_shape[i]! - 1) * dilations[i]! + 1 - spatial[i]!);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + r] = total - pads[i]!;
    }
  }
  return { kernel_shape, strides, dilations, pads, ceil_mode };
}
