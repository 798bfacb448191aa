/**
 * ONNX emission for the TF.js importer, with layout tracking. TensorFlow keeps images NHWC;
 * ONNX's Conv, pooling and Resize are NCHW, and convlens' spatial methods read layers as
 * [N, C, H, W]. So the imported model keeps the TF input (NHWC) and outputs, and every
 * rank-4 tensor after the first convolution lives transposed to NCHW inside the graph: a
 * value carries `nchw` (its data is the TF tensor with axes (0, 3, 1, 2)), and a Transpose is
 * emitted only where an op needs the TF order (Flatten, Reshape, graph outputs, ...).
 * Element-wise ops accept either layout; constants that broadcast against an NCHW value are
 * permuted once at import time.
 */
import type { ModelProto, NodeProto, ValueInfoProto } from '../../model/onnx-proto.ts';
import { GraphBuilder, type Attrs } from '../../graph/builder.ts';
import { DataType, type TensorValue, type TypedArray } from '../../model/tensor-data.ts';
import { ImportError } from './errors.ts';

export interface Value {
  /** ONNX tensor name. */
  name: string;
  /** Rank in TF terms (undefined when unknown). */
  rank: number | undefined;
  /** Rank 4 stored as NCHW (TF axes 0, 3, 1, 2). */
  nchw: boolean;
  /** ONNX element type. */
  dtype: number;
}

/** TF axis -> NCHW axis for rank-4 tensors. */
export const NCHW_AXIS = [0, 2, 3, 1] as const;
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/** Permute the axes of a dense tensor: out dims[i] = dims[perm[i]]. */
export function permute(value: TensorValue, perm: readonly number[]): TensorValue {
  const dims = value.dims;
  const r = dims.length;
  const outDims = perm.map((p) => dims[p]!);
  const strides = new Array<number>(r).fill(1);
  for (let i = r - 2; i >= 0; i--) strides[i] = strides[i + 1]! * dims[i + 1]!;
  const src = value.data as unknown as ArrayLike<number | bigint> & { length: number };
  const out = new (value.data.constructor as new (n: number) => TypedArray)(value.data.length);
  const index = new Array<number>(r).fill(0);
  for (let k = 0; k < out.length; k++) {
    let from = 0;
    for (let i = 0; i < r; i++) from += index[i]! * strides[perm[i]!]!;
    (out as unknown as (number | bigint)[])[k] = src[from]!;
    for (let i = r - 1; i >= 0; i--) {
      if (++index[i]! < outDims[i]!) break;
      index[i] = 0;
    }
  }
  return { dataType: value.dataType, dims: outDims, data: out };
}

export class Emitter {
  readonly b = new GraphBuilder([]);
  private readonly inputs: ValueInfoProto[] = [];
  private readonly constants = new Map<string, TensorValue>();
  private readonly converted = new Map<string, Value>();

  /** A graph input with TF dims (numbers, or names for symbolic dims). */
  input(name: string, dims: readonly (number | string)[], dtype: number): Value {
    const onnxName = this.b.unique(name);
    const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
    this.inputs.push({ name: onnxName, type: { tensorType: { elemType: dtype, shape: { dim } } } });
    return { name: onnxName, rank: dims.length, nchw: false, dtype };
  }

  constant(name: string, value: TensorValue): Value {
    const onnxName = this.b.constant(name, value);
    this.constants.set(onnxName, value);
    return { name: onnxName, rank: value.dims.length, nchw: false, dtype: value.dataType };
  }

  /** The value of a constant (in TF layout), if `v` is one. */
  constantOf(v: Value): TensorValue | undefined {
    return v.nchw ? undefined : this.constants.get(v.name);
  }

  int64s(name: string, values: readonly number[]): string {
    return this.b.int64s(name, values);
  }

  scalar(name: string, value: number): string {
    return this.b.scalar(name, value);
  }

  /** Emit a node whose output has the given layout. */
  op(opType: string, inputs: readonly string[], attrs: Attrs, name: string, like: Omit<Value, 'name'>): Value {
    return { ...like, name: this.b.op(opType, inputs, attrs, name) };
  }

  /** Emit a multi-output node. */
  node(opType: string, inputs: readonly string[], attrs: Attrs, name: string, outputs: number): string[] {
    return this.b.node(opType, inputs, attrs, name, outputs);
  }

  /** `v` in TF order. */
  plain(v: Value): Value {
    if (!v.nchw) return v;
    const key = `plain:${v.name}`;
    const found = this.converted.get(key);
    if (found) return found;
    const out = this.op('Transpose', [v.name], { perm: TO_NHWC }, `${v.name}/nhwc`, { rank: 4, nchw: false, dtype: v.dtype });
    this.converted.set(key, out);
    return out;
  }

  /** `v` (rank 4) stored NCHW. */
  nchw(v: Value, what: string): Value {
    if (v.nchw) return v;
    if (v.rank !== 4) throw new ImportError(`${what} needs a rank-4 NHWC tensor, but '${v.name}' has rank ${v.rank ?? 'unknown'}`);
    const key = `nchw:${v.name}`;
    const found = this.converted.get(key);
    if (found) return found;
    const c = this.constantOf(v);
    const out = c
      ? { ...this.constant(`${v.name}/nchw`, permute(c, TO_NCHW)), rank: 4, nchw: true }
      : this.op('Transpose', [v.name], { perm: TO_NCHW }, `${v.name}/nchw`, { rank: 4, nchw: true, dtype: v.dtype });
    this.converted.set(key, out);
    return out;
  }

  /**
   * Operands of a broadcasting element-wise op in one common layout: NCHW when any is NCHW
   * and the others are rank-4 tensors or constants of rank <= 4 (numpy broadcasting aligns
   * trailing axes, so a constant is first padded to rank 4), else TF order.
   */
  align(values: readonly Value[]): { names: string[]; like: Omit<Value, 'name'> } {
    const dtype = values[0]!.dtype;
    const rank = Math.max(...values.map((v) => v.rank ?? 0));
    const fits = (v: Value): boolean => v.nchw || v.rank === 4 || (this.constantOf(v) !== undefined && (v.rank ?? 5) <= 4);
    if (values.some((v) => v.nchw) && values.every(fits)) {
      const names = values.map((v) => {
        const c = this.constantOf(v);
        if (v.nchw || !c || c.dims.length === 4) return this.nchw(v, 'an element-wise op').name;
        if (c.dims.length === 0 || c.data.length === 1) return v.name;
        const padded = { ...c, dims: [...new Array<number>(4 - c.dims.length).fill(1), ...c.dims] };
        return this.constant(`${v.name}/nchw`, permute(padded, TO_NCHW)).name;
      });
      return { names, like: { rank: 4, nchw: true, dtype } };
    }
    const anyUnknown = values.some((v) => v.rank === undefined);
    return { names: values.map((v) => this.plain(v).name), like: { rank: anyUnknown ? undefined : rank, nchw: false, dtype } };
  }

  /** The model: TF-layout outputs under their TF names. */
  finish(outputs: readonly Value[], producer: string): ModelProto {
    const nodes: NodeProto[] = this.b.nodes;
    const outputInfos: ValueInfoProto[] = [];
    const inputNames = new Set(this.inputs.map((i) => i.name));
    for (const v of outputs) {
      if (v.nchw || inputNames.has(v.name) || this.constants.has(v.name)) {
        // Rename the internal tensor, then give the TF name to its TF-layout copy.
        const inner = this.b.unique(`${v.name}/${v.nchw ? 'nchw' : 'value'}`);
        if (!inputNames.has(v.name) && !this.constants.has(v.name)) {
          for (const n of nodes) {
            n.input = n.input.map((t) => (t === v.name ? inner : t));
            n.output = n.output.map((t) => (t === v.name ? inner : t));
          }
        }
        const source = inputNames.has(v.name) || this.constants.has(v.name) ? v.name : inner;
        nodes.push(v.nchw
          ? { name: `${v.name}/to_nhwc`, opType: 'Transpose', domain: '', input: [source], output: [v.name], attribute: [{ name: 'perm', type: 7, ints: TO_NHWC }] }
          : { name: `${v.name}/identity`, opType: 'Identity', domain: '', input: [source], output: [v.name], attribute: [] });
      }
      outputInfos.push({ name: v.name, type: { tensorType: { elemType: v.dtype } } });
    }
    return {
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      producerName: producer,
      graph: { name: 'tfjs', node: nodes, initializer: this.b.initializers, input: this.inputs, output: outputInfos },
    };
  }
}

/** ONNX element type of a TF dtype name ('float32', 'DT_FLOAT', ...). */
export function onnxType(tf: string | undefined, what: string): number {
  switch (tf) {
    case undefined: case 'float32': case 'DT_FLOAT': return DataType.FLOAT;
    case 'int32': case 'DT_INT32': return DataType.INT32;
    case 'bool': case 'DT_BOOL': return DataType.BOOL;
    case 'DT_INT64': return DataType.INT64;
    default: throw new ImportError(`${what} has dtype ${tf}: convlens imports float32, int32 and bool tensors`);
  }
}
