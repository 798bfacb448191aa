/**
 * What a gradient rule sees and returns. A rule is a pure function of one forward node:
 * given the gradients flowing into its outputs it emits the nodes that compute the
 * gradients of its inputs (vector-Jacobian products), and never touches the forward graph.
 */
import type { NodeProto } from '../model/onnx-proto.ts';
import type { TensorValue } from '../model/tensor-data.ts';
import { DataType } from '../model/tensor-data.ts';
import type { GraphBuilder, Attrs } from '../graph/builder.ts';

export interface RuleContext {
  node: NodeProto;
  /** Default-domain opset of the compiled graph (>= 17). */
  opset: number;
  /** Gradient flowing into each output (undefined where none flows). */
  gradOutputs: readonly (string | undefined)[];
  /** Which inputs want a gradient. */
  needsGrad: readonly boolean[];
  /** Static shape of a forward tensor. */
  shape(tensor: string): number[];
  /** Element type of a forward tensor. */
  dtype(tensor: string): number;
  /** Value of an initializer or constant, if it is one. */
  constant(tensor: string): TensorValue | undefined;
  /** Emit a node named `<node>_Grad/<hint>`; returns its (first) output. */
  op(opType: string, inputs: readonly string[], attrs: Attrs, hint: string): string;
  /** Emit a multi-output node. */
  ops(opType: string, inputs: readonly string[], attrs: Attrs, hint: string, outputs: number): string[];
  /** A scalar constant with the element type of `like`. */
  scalar(value: number, like: string): string;
  /** A constant tensor in the element type of `like`. */
  tensor(hint: string, dims: number[], values: ArrayLike<number>, like: string): string;
  int64s(hint: string, values: readonly number[]): string;
  builder: GraphBuilder;
}

/** Returns one entry per node input: its gradient tensor, or undefined. */
export type Rule = (ctx: RuleContext) => (string | undefined)[];

/** An op that carries no gradient (integer and shape paths): the compiler stops there. */
export const NO_GRADIENT = Symbol('no-gradient');

/** An op that must not be differentiated; the reason is shown to the user. */
export interface Forbidden {
  forbidden: string;
}

export type RuleEntry = Rule | typeof NO_GRADIENT | Forbidden;
export type RuleTable = Readonly<Record<string, RuleEntry>>;

export function isForbidden(e: RuleEntry | undefined): e is Forbidden {
  return typeof e === 'object' && e !== null && 'forbidden' in e;
}

export function floatArray(values: ArrayLike<number>, dataType: number): Float32Array | Float64Array {
  return dataType === DataType.DOUBLE ? Float64Array.from(values) : Float32Array.from(values);
}
