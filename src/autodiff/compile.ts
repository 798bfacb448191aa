/**
 * The backward compiler: from a model, a target and the tensors to differentiate with
 * respect to, emit one ONNX model that computes the forward outputs, the requested
 * activations and the gradients of sum(target_weight * target) with respect to each
 * requested tensor, using only standard ONNX ops.
 *
 * The target weight is an extra graph input with the target tensor's shape (one-hot per
 * image for "the logit of class c"), so one compiled graph serves every class and every
 * image of a batch. By default the target is the pre-softmax score (Simonyan et al. 2014,
 * section 2: unnormalised class scores).
 */
import type { GraphProto, ModelProto, NodeProto, ValueInfoProto } from '../model/onnx-proto.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { subgraphReferences } from '../model/graph-view.ts';
import { isFloatType } from '../model/dtypes.ts';
import { defaultOpset, ModelError } from '../model/model.ts';
import { DataType, type TensorValue } from '../model/tensor-data.ts';
import { specialize, type Specialized } from '../runtime/specialize.ts';
import { floatArray, isForbidden, NO_GRADIENT, type RuleContext, type RuleTable } from './rule.ts';
import { ruleSets, type RuleSetName } from './rulesets.ts';
import { CompileError } from './errors.ts';
import { foldBatchNorms } from './fold-batchnorm.ts';
import { injectTensors } from './inject.ts';

export const TARGET_WEIGHT = 'target_weight';

export interface CompileSpec {
  /** Shape of the (single) image input, or shapes by input name. */
  inputShape: number[] | Record<string, number[]>;
  /** The model output to explain (default: the first). */
  output?: string;
  /** Differentiate this exact tensor instead (no pre-softmax lookup). */
  targetTensor?: string;
  /** Tensors to differentiate with respect to (graph input and/or inner tensors). */
  wrt?: readonly string[];
  /** Inner tensors to return as extra outputs. */
  expose?: readonly string[];
  /** Backward rules: a named rule set or a table (default 'gradient'). */
  rules?: RuleSetName | RuleTable;
  /**
   * Where the target weight comes from: a graph input (default), or, for 'argmax', the
   * one-hot of each image's arg max over axis 1 of the target, computed in the graph (so
   * "explain the predicted class" needs no separate forward pass).
   */
  targetWeight?: 'input' | 'argmax';
  /** Inner tensors fed as graph inputs instead of computed (see inject.ts). */
  inject?: readonly string[];
  /**
   * What flows back from the target: the weight (gradients of sum(w * target), default), or
   * 'weighted-target', w * target itself (relevance rule sets: the explained score is the
   * relevance to distribute, R = f(x)).
   */
  seed?: 'weight' | 'weighted-target';
}

export interface CompiledGraph {
  model: ModelProto;
  /** The model's image input names, in order. */
  inputs: string[];
  inputShapes: Record<string, number[]>;
  /** Name and shape of the target-weight input ('' when nothing is differentiated). */
  targetWeight: string;
  targetShape: number[];
  /** The tensor whose weighted sum is differentiated. */
  target: string;
  /** The model's own outputs. */
  outputs: string[];
  /** Output name of each exposed tensor. */
  exposed: Record<string, string>;
  /** Output name of the gradient of each `wrt` tensor. */
  gradients: Record<string, string>;
  shapes: Map<string, number[]>;
}

export { CompileError };

const PASS_THROUGH = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);
const NORMALIZERS = new Set(['Softmax', 'LogSoftmax']);

/** The pre-softmax tensor behind `output` when it ends in (Log)Softmax, else `output`. */
export function preSoftmaxTarget(s: Specialized, output: string): string {
  let t = output;
  for (let p = s.view.producer(t); p; p = s.view.producer(t)) {
    if (NORMALIZERS.has(p.node.opType)) return p.node.input[0]!;
    if (!PASS_THROUGH.has(p.node.opType)) break;
    t = p.node.input[0]!;
  }
  return output;
}

export async function compile(model: ModelProto, spec: CompileSpec): Promise<CompiledGraph> {
  const s = await specializeFor(model, spec);
  return compileSpecialized(s, spec);
}

export async function specializeFor(model: ModelProto, spec: Pick<CompileSpec, 'inputShape'>): Promise<Specialized> {
  const g = model.graph!;
  const initializers = new Set((g.initializer ?? []).map((t) => t.name));
  const imageInputs = (g.input ?? []).filter((i) => !initializers.has(i.name));
  let shapes: Record<string, number[]>;
  if (Array.isArray(spec.inputShape)) {
    if (imageInputs.length !== 1) {
      throw new ModelError(`the model has ${imageInputs.length} inputs (${imageInputs.map((i) => i.name).join(', ')}): give a shape for each by name`);
    }
    shapes = { [imageInputs[0]!.name]: spec.inputShape };
  } else shapes = spec.inputShape;
  return specialize(model, shapes);
}

export function compileSpecialized(specialized: Specialized, spec: CompileSpec): CompiledGraph {
  const requested = new Set([...(spec.wrt ?? []), ...(spec.expose ?? []), ...(spec.targetTensor ? [spec.targetTensor] : [])]);
  for (const t of spec.inject ?? []) if (!specialized.shapes.has(t)) throw new CompileError(unknownTensor(specialized, t));
  const s = injectTensors(foldBatchNorms(specialized, new Set([...requested, ...(spec.inject ?? [])]), spec.wrt ?? []), spec.inject ?? []);
  const view = s.view;
  const known = (t: string) => s.shapes.has(t);
  const outputs = view.outputs.map((o) => o.name);
  const output = spec.output ?? outputs[0]!;
  if (!outputs.includes(output)) {
    throw new CompileError(`the model has no output '${output}' (outputs: ${outputs.join(', ')})`);
  }
  const target = spec.targetTensor ?? preSoftmaxTarget(s, output);
  const wrt = [...new Set(spec.wrt ?? [])];
  const expose = [...new Set(spec.expose ?? [])];
  for (const t of [target, ...wrt, ...expose]) {
    if (!known(t)) throw new CompileError(unknownTensor(s, t));
    if (!isFloatType(s.dtypes.get(t))) throw new CompileError(`tensor '${t}' is not floating point: it cannot be differentiated or shown`);
  }
  const rules = typeof spec.rules === 'object' ? spec.rules : ruleSets[spec.rules ?? 'gradient'];
  if (!rules) throw new CompileError(`unknown rule set '${String(spec.rules)}' (choices: ${Object.keys(ruleSets).join(', ')})`);

  const b = new GraphBuilder([...view.tensorNames(), ...view.nodes.map((n) => n.name ?? ''), TARGET_WEIGHT]);
  const gradients: Record<string, string> = {};
  let targetWeight = '';
  const targetShape = s.shapes.get(target)!;
  if (wrt.length > 0) {
    targetWeight = spec.targetWeight === 'argmax' ? '' : TARGET_WEIGHT;
    const weight = targetWeight || argmaxOneHot(b, target, targetShape, s.dtypes.get(target) ?? DataType.FLOAT);
    const seed = spec.seed === 'weighted-target' ? b.op('Mul', [weight, target], {}, `${target}_relevance`) : weight;
    const grads = backward(s, rules, b, target, seed, new Set(wrt));
    for (const t of wrt) {
      const contributions = grads.get(t);
      if (!contributions || contributions.length === 0) {
        throw new CompileError(`tensor '${t}' does not influence '${target}': choose a layer before the output`);
      }
      gradients[t] = b.op(contributions.length === 1 ? 'Identity' : 'Sum', contributions, {}, `${t}_grad`);
    }
  }

  // A new model object: the specialized model stays reusable for other compiles.
  const nodes = [...view.nodes, ...b.nodes];
  const used = new Set(nodes.flatMap((n) => [...n.input, ...subgraphReferences(n)]));
  const initializer = [...(s.model.graph!.initializer ?? []), ...b.initializers].filter((t) => used.has(t.name ?? ''));
  const graph: GraphProto = { ...s.model.graph!, node: nodes, initializer, valueInfo: [] };
  const m: ModelProto = { ...s.model, graph };
  const valueInfo = (name: string, shape: number[]): ValueInfoProto => ({
    name,
    type: { tensorType: { elemType: s.dtypes.get(name) ?? DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  });
  if (targetWeight) {
    graph.input = [...(s.model.graph!.input ?? []), { name: targetWeight, type: { tensorType: { elemType: s.dtypes.get(target) ?? DataType.FLOAT, shape: { dim: targetShape.map((d) => ({ dimValue: d })) } } } }];
  }
  const exposed: Record<string, string> = {};
  const outs: ValueInfoProto[] = outputs.map((o) => valueInfo(o, s.shapes.get(o) ?? view.constant(o)?.dims ?? []));
  for (const t of expose) {
    exposed[t] = t;
    if (!outputs.includes(t)) outs.push(valueInfo(t, s.shapes.get(t)!));
  }
  for (const t of wrt) {
    outs.push({ ...valueInfo(t, s.shapes.get(t)!), name: gradients[t]! });
  }
  graph.output = outs;
  return {
    model: m,
    inputs: view.inputs.map((i) => i.name),
    inputShapes: s.inputShapes,
    targetWeight,
    targetShape,
    target,
    outputs,
    exposed,
    gradients,
    shapes: s.shapes,
  };
}

/** one_hot(argmax(t, axis 1)) with t's shape and type: [t == max over axis 1], first max only. */
function argmaxOneHot(b: GraphBuilder, t: string, shape: number[], dtype: number): string {
  if (shape.length < 2) throw new CompileError(`target '${t}' has shape [${shape.join(', ')}]: the arg max target needs a class axis 1`);
  const index = b.op('ArgMax', [t], { axis: 1, keepdims: 1, select_last_index: 0 }, `${t}_argmax`);
  const classes = shape[1]!;
  const rangeShape = shape.map((d, i) => (i === 1 ? classes : 1));
  const range = b.constant(`${t}_class_index`, { dataType: DataType.INT64, dims: rangeShape, data: BigInt64Array.from({ length: classes }, (_, i) => BigInt(i)) });
  const hit = b.op('Equal', [range, index], {}, `${t}_is_argmax`);
  return b.op('Cast', [hit], { to: dtype }, `${t}_argmax_weight`);
}

function unknownTensor(s: Specialized, t: string): string {
  const byNode = s.view.nodes.find((n) => n.name === t);
  if (byNode) return `'${t}' is a node name; use its output tensor '${byNode.output[0]}'`;
  const close = [...s.shapes.keys()].filter((k) => k.toLowerCase().includes(t.toLowerCase())).slice(0, 5);
  return `the model has no tensor '${t}'${close.length ? ` (did you mean ${close.map((c) => `'${c}'`).join(', ')}?)` : ''}: list candidates with \`convlens layers\``;
}

/** Reverse-mode sweep over the nodes between `wrt` and `target`. */
function backward(
  s: Specialized,
  rules: RuleTable,
  b: GraphBuilder,
  target: string,
  seed: string,
  wrt: ReadonlySet<string>,
): Map<string, string[]> {
  const view = s.view;
  const floatish = (t: string) => isFloatType(s.dtypes.get(t));
  // Tensors that depend differentiably on a wrt tensor.
  const reach = new Set<string>(wrt);
  for (const node of view.nodes) {
    if (!node.input.some((i) => reach.has(i))) continue;
    if (rules[node.opType] === NO_GRADIENT) continue;
    for (const o of node.output) if (o && floatish(o)) reach.add(o);
  }
  if (!reach.has(target)) {
    throw new CompileError(`the target '${target}' does not depend on ${[...wrt].map((w) => `'${w}'`).join(', ')}: choose tensors between the input and the output`);
  }
  const grads = new Map<string, string[]>([[target, [seed]]]);
  const summed = (t: string): string | undefined => {
    const list = grads.get(t);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0]!;
    const sum = b.op('Sum', list, {}, `${t}_grad`);
    grads.set(t, [sum]);
    return sum;
  };
  for (let k = view.nodes.length - 1; k >= 0; k--) {
    const node = view.nodes[k]!;
    if (!node.output.some((o) => grads.has(o))) continue;
    const needsGrad = node.input.map((i) => !!i && reach.has(i));
    if (!needsGrad.some(Boolean)) continue;
    const entry = rules[node.opType];
    if (entry === NO_GRADIENT) continue;
    if (entry === undefined) {
      const supported = Object.keys(rules).filter((k2) => typeof rules[k2] === 'function').sort();
      throw new CompileError(
        `op ${node.opType} (node '${node.name}') lies between the input and the target, and convlens has no gradient rule for it. Supported: ${supported.join(', ')}`,
      );
    }
    if (isForbidden(entry)) throw new CompileError(`op ${node.opType} (node '${node.name}') cannot be differentiated: ${entry.forbidden}`);
    const gradOutputs = node.output.map((o) => (o ? summed(o) : undefined));
    const result = entry(ruleContext(s, b, node, gradOutputs, needsGrad));
    node.input.forEach((name, i) => {
      const g = result[i];
      if (!g || !needsGrad[i]) return;
      const list = grads.get(name);
      if (list) list.push(g);
      else grads.set(name, [g]);
    });
  }
  for (const t of wrt) summed(t);
  return grads;
}

function ruleContext(s: Specialized, b: GraphBuilder, node: NodeProto, gradOutputs: (string | undefined)[], needsGrad: boolean[]): RuleContext {
  const prefix = `${node.name}_Grad/`;
  const shape = (t: string): number[] => {
    const d = s.shapes.get(t);
    if (!d) throw new CompileError(`no static shape for '${t}'`);
    return d;
  };
  // Tensors the backward pass creates are not in the forward type map: they have the float
  // type of the node's first float input (Cast's rule names its types explicitly).
  const nodeFloat = node.input.map((i) => s.dtypes.get(i)).find(isFloatType) ?? DataType.FLOAT;
  const dtype = (t: string) => s.dtypes.get(t) ?? nodeFloat;
  const floatValue = (dims: number[], values: ArrayLike<number>, like: string): TensorValue => {
    const dataType = dtype(like) === DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT;
    return { dataType, dims, data: floatArray(values, dataType) };
  };
  return {
    node,
    opset: defaultOpset(s.model),
    gradOutputs,
    needsGrad,
    shape,
    dtype,
    constant: (t) => s.view.constant(t),
    op: (opType, inputs, attrs, hint) => b.op(opType, inputs, attrs, prefix + hint),
    ops: (opType, inputs, attrs, hint, n) => b.node(opType, inputs, attrs, prefix + hint, n),
    scalar: (value, like) => b.constant(`${prefix}c`, floatValue([], [value], like)),
    tensor: (hint, dims, values, like) => b.constant(prefix + hint, floatValue(dims, values, like)),
    int64s: (hint, values) => b.int64s(prefix + hint, values),
    builder: b,
  };
}
