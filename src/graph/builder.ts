/**
 * Emitting nodes and constants into a graph under construction, with deterministic,
 * collision-free names (so a compiled graph reads well in Netron).
 */
import type { NodeProto, TensorProto } from '../model/onnx-proto.ts';
import { makeAttribute, type AttrInput } from '../model/attributes.ts';
import { DataType, makeTensorProto, type TensorValue } from '../model/tensor-data.ts';

export type Attrs = Record<string, AttrInput | undefined>;

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly taken: Set<string>;
  private readonly constants = new Map<string, string>();

  constructor(taken: Iterable<string>) {
    this.taken = new Set(taken);
  }

  /** `name`, or `name_1`, `name_2`, ... if taken. */
  unique(name: string): string {
    let candidate = name;
    for (let k = 1; this.taken.has(candidate); k++) candidate = `${name}_${k}`;
    this.taken.add(candidate);
    return candidate;
  }

  /** Emit one node; returns its output names (named `<name>` or `<name>:<k>`). */
  node(opType: string, inputs: readonly string[], attrs: Attrs, name: string, outputCount = 1): string[] {
    const nodeName = this.unique(name);
    // A single output shares the node's (already reserved) name.
    const outputs = outputCount === 1 ? [nodeName] : Array.from({ length: outputCount }, (_, k) => this.unique(`${nodeName}:${k}`));
    const attribute = Object.entries(attrs)
      .filter((e): e is [string, AttrInput] => e[1] !== undefined)
      .map(([k, v]) => makeAttribute(k, v));
    this.nodes.push({ name: nodeName, opType, domain: '', input: [...inputs], output: outputs, attribute });
    return outputs;
  }

  /** Emit a single-output node. */
  op(opType: string, inputs: readonly string[], attrs: Attrs, name: string): string {
    return this.node(opType, inputs, attrs, name, 1)[0]!;
  }

  /** An initializer; identical constants are shared. */
  constant(name: string, value: TensorValue): string {
    const key = value.data.length <= 64
      ? `${value.dataType}|${value.dims.join(',')}|${Array.from(value.data as ArrayLike<number | bigint>).join(',')}`
      : undefined;
    const found = key === undefined ? undefined : this.constants.get(key);
    if (found) return found;
    const unique = this.unique(name);
    this.initializers.push(makeTensorProto(unique, value));
    if (key !== undefined) this.constants.set(key, unique);
    return unique;
  }

  int64s(name: string, values: readonly number[]): string {
    return this.constant(name, { dataType: DataType.INT64, dims: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) });
  }

  scalar(name: string, value: number, dataType: number = DataType.FLOAT): string {
    const data = dataType === DataType.DOUBLE ? Float64Array.of(value) : Float32Array.of(value);
    return this.constant(name, { dataType, dims: [], data });
  }
}
