/**
 * Specialize a model to one input shape: canonical opset, static input dims, every tensor's
 * static shape and element type, and every value that depends only on shapes folded into
 * a constant (the Shape -> Gather -> Concat -> Reshape chains of PyTorch's flatten/view,
 * and If nodes whose condition is such a value, which are replaced by the taken branch).
 *
 * Shapes come from one probe run of onnxruntime: each dynamic tensor is exposed through a
 * Shape node (a few bytes, not the activation), each shape-only value itself. The probe
 * carries no large weights, and onnxruntime's shape inference and constant folding usually
 * answer it without computing the network; where they cannot, it runs.
 */
import type { GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from '../model/onnx-proto.ts';
import { makeAttribute } from '../model/attributes.ts';
import { int64ToNumber } from '../model/onnx-proto.ts';
import { normalizeOpset } from '../model/opset.ts';
import { GraphView, liveNodes, subgraphReferences } from '../model/graph-view.ts';
import { inferDtypes } from '../model/dtypes.ts';
import { DataType, makeTensorProto, toNumbers, type TensorValue, type TypedArray, elementCount } from '../model/tensor-data.ts';
import { cloneModel, ModelError, serializeModel } from '../model/model.ts';
import { Session, firstLine, type AnyTensor } from './session.ts';

export interface Specialized {
  model: ModelProto;
  view: GraphView;
  shapes: Map<string, number[]>;
  dtypes: Map<string, number>;
  inputShapes: Record<string, number[]>;
}

const SHAPE_ONLY = new Set(['Shape', 'Size']);
const NONDETERMINISTIC = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli']);
const MAX_ROUNDS = 4;

/** The dims a model declares for an input (undefined = symbolic). */
export function declaredDims(input: ValueInfoProto): (number | undefined)[] | undefined {
  const dims = input.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((d) => {
    const v = int64ToNumber(d.dimValue);
    return v > 0 ? v : undefined;
  });
}

function checkInputShape(input: ValueInfoProto, shape: readonly number[]): void {
  const declared = declaredDims(input);
  if (!declared) return;
  const show = (d: (number | undefined)[]) => `[${d.map((x) => x ?? '?').join(', ')}]`;
  // The batch dim (0) may differ from an exported fixed batch: checked after the probe.
  if (declared.length !== shape.length || declared.some((d, i) => i > 0 && d !== undefined && d !== shape[i])) {
    throw new ModelError(
      `input '${input.name}' takes shape ${show(declared)}, not [${shape.join(', ')}]: resize the image to the model's size (or export the model with dynamic axes)`,
    );
  }
  if (shape.some((d) => !Number.isInteger(d) || d <= 0)) throw new ModelError(`input shape [${shape.join(', ')}] must be positive integers`);
}

/** `run`: probe by running the network even where onnxruntime's shape inference could answer (tests compare the two). */
export async function specialize(model: ModelProto, inputShapes: Record<string, number[]>, options: { run?: boolean } = {}): Promise<Specialized> {
  const m = normalizeOpset(model);
  const graph = m.graph!;
  let view = new GraphView(graph);
  const batchOverridden = view.inputs.some((i) => {
    const declared = declaredDims(i)?.[0];
    return declared !== undefined && declared !== inputShapes[i.name]?.[0];
  });
  for (const input of view.inputs) {
    const shape = inputShapes[input.name];
    if (!shape) {
      throw new ModelError(`no shape given for input '${input.name}' (inputs: ${view.inputs.map((i) => i.name).join(', ')})`);
    }
    checkInputShape(input, shape);
    input.type = { tensorType: { elemType: input.type?.tensorType?.elemType ?? DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } };
  }
  for (const name of Object.keys(inputShapes)) {
    if (!view.inputs.some((i) => i.name === name)) {
      throw new ModelError(`the model has no input '${name}' (inputs: ${view.inputs.map((i) => i.name).join(', ')})`);
    }
  }
  let shapes = new Map<string, number[]>();
  for (let round = 0; ; round++) {
    view = new GraphView(graph);
    shapes = await probeAndFold(m, view, inputShapes, options.run ?? false);
    view = new GraphView(graph);
    if (!inlineConstantIfs(graph, view) || round === MAX_ROUNDS) break;
  }
  view = new GraphView(graph);
  // Dead nodes out, node list in topological order.
  graph.node = liveNodes(view.nodes, (view.graph.output ?? []).map((o) => o.name));
  view = new GraphView(graph);
  if (batchOverridden) checkBatch(view, shapes, inputShapes);
  for (const t of graph.initializer ?? []) shapes.set(t.name ?? '', (t.dims ?? []).map(int64ToNumber));
  for (const [name, dims] of Object.entries(inputShapes)) shapes.set(name, dims.slice());
  return { model: m, view, shapes, dtypes: inferDtypes(view), inputShapes };
}

/** A batch that differs from the exported fixed one must come out of every output. */
function checkBatch(view: GraphView, shapes: Map<string, number[]>, inputShapes: Record<string, number[]>): void {
  const batches = new Set(Object.values(inputShapes).map((s) => s[0]));
  if (batches.size !== 1) return;
  const batch = [...batches][0];
  for (const o of view.outputs) {
    const dims = shapes.get(o.name) ?? view.constant(o.name)?.dims;
    if (dims && dims[0] !== batch) {
      throw new ModelError(
        `the model gives output '${o.name}' shape [${dims.join(', ')}] for a batch of ${batch}: it was exported with a fixed batch size; run one image at a time (batch size 1) or export it with dynamic_axes for the batch`,
      );
    }
  }
}

export function staticTensors(view: GraphView): Set<string> {
  const s = new Set<string>((view.graph.initializer ?? []).map((t) => t.name ?? ''));
  s.add('');
  for (const node of view.nodes) {
    const deps = [...node.input, ...subgraphReferences(node)];
    const isStatic = !NONDETERMINISTIC.has(node.opType) && (SHAPE_ONLY.has(node.opType) || deps.every((d) => s.has(d)));
    if (isStatic) for (const o of node.output) s.add(o);
  }
  return s;
}

async function probeAndFold(m: ModelProto, view: GraphView, inputShapes: Record<string, number[]>, run: boolean): Promise<Map<string, number[]>> {
  const graph = view.graph;
  const dtypes = inferDtypes(view);
  const isStatic = staticTensors(view);
  const outputs = new Set(graph.output?.map((o) => o.name));
  const probe = cloneModel(m);
  const probeGraph = probe.graph!;
  probeGraph.output = [];
  const probeShapeOf = new Map<string, string>();
  const fold: string[] = [];
  const shapeNodes: NodeProto[] = [];
  for (const node of view.nodes) {
    for (const t of node.output) {
      if (!t) continue;
      if (isStatic.has(t)) {
        if (node.opType === 'Constant' && !outputs.has(t)) {
          const v = view.constant(t);
          if (v) continue; // Constant values are read directly.
        }
        const dynamicConsumer = view.consumers(t).some((c) => c.output.some((o) => !isStatic.has(o)));
        if (dynamicConsumer || outputs.has(t)) fold.push(t);
        probeGraph.output.push({ name: t, type: { tensorType: { elemType: dtypes.get(t) ?? DataType.FLOAT } } });
      } else {
        const name = `${t}::probe_shape`;
        probeShapeOf.set(t, name);
        shapeNodes.push({ name, opType: 'Shape', domain: '', input: [t], output: [name], attribute: [] });
        probeGraph.output.push({ name, type: { tensorType: { elemType: DataType.INT64 } } });
      }
    }
  }
  probeGraph.node = [...placeholderWeights(probeGraph, view, isStatic), ...view.nodes, ...shapeNodes];
  const feeds: Record<string, AnyTensor> = {};
  for (const input of view.inputs) {
    const dims = inputShapes[input.name]!;
    feeds[input.name] = zeros(input.type?.tensorType?.elemType ?? DataType.FLOAT, dims);
  }
  const bytes = serializeModel(probe);
  // With onnxruntime's basic optimizations, shape inference and constant folding answer the
  // Shape outputs without running the network (21 ms instead of 1.1 s for ResNet-50 at
  // batch 8); a graph they cannot handle is probed again by running it as it is.
  const result = (run ? undefined : await probeRun(bytes, feeds, 'basic', inputShapes).catch(() => undefined)) ?? (await probeRun(bytes, feeds, 'disabled', inputShapes));
  const shapes = new Map<string, number[]>();
  for (const [t, probeName] of probeShapeOf) shapes.set(t, toNumbers(result[probeName]!.data as TypedArray));
  for (const node of view.nodes) {
    for (const t of node.output) {
      if (t && isStatic.has(t)) {
        const r = result[t];
        if (r) shapes.set(t, r.dims);
        else {
          const v = view.constant(t);
          if (v) shapes.set(t, v.dims);
        }
      }
    }
  }
  // Fold: the static tensors that dynamic nodes read become initializers.
  const folded = new Set<string>();
  for (const t of fold) {
    const r = result[t];
    if (!r) continue;
    const value: TensorValue = { dataType: dtypes.get(t) ?? DataType.FLOAT, dims: r.dims, data: r.data as TypedArray };
    graph.initializer = [...(graph.initializer ?? []), makeTensorProto(t, value)];
    folded.add(t);
  }
  graph.node = graph.node.filter((n) => !n.output.some((o) => folded.has(o)));
  return shapes;
}

/** Inputs whose values never decide a shape: the parameters of the layers that carry a network's weights. */
const WEIGHT_INPUTS: Record<string, readonly number[]> = {
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  Gemm: [1, 2],
  MatMul: [1],
  BatchNormalization: [1, 2, 3, 4],
  InstanceNormalization: [1, 2],
  PRelu: [1],
};
const PLACEHOLDER_MIN_ELEMENTS = 1024;

/**
 * In the probe, large float weights that only feed weight inputs of dynamic nodes become
 * zeros made at run time (ConstantOfShape): shapes do not depend on them, and the probe
 * then holds no copy of the weights to serialize and load (100 MB for ResNet-50).
 * Returns the nodes that make them; the initializers leave `probeGraph`.
 */
export function placeholderWeights(probeGraph: GraphProto, view: GraphView, isStatic: ReadonlySet<string>): NodeProto[] {
  const outputs = new Set((probeGraph.output ?? []).map((o) => o.name));
  const replaceable = (t: TensorProto): boolean => {
    const name = t.name ?? '';
    const dataType = t.dataType ?? 0;
    if ((dataType !== DataType.FLOAT && dataType !== DataType.DOUBLE) || t.dataLocation === 1) return false;
    if (elementCount((t.dims ?? []).map(int64ToNumber)) < PLACEHOLDER_MIN_ELEMENTS || outputs.has(name)) return false;
    const consumers = view.consumers(name);
    return consumers.length > 0 && consumers.every((c) => !c.output.some((o) => isStatic.has(o)) && c.input.every((x, i) => x !== name || (WEIGHT_INPUTS[c.opType]?.includes(i) ?? false)));
  };
  const nodes: NodeProto[] = [];
  const kept: TensorProto[] = [];
  const replaced = new Set<string>();
  for (const t of probeGraph.initializer ?? []) {
    if (!replaceable(t)) {
      kept.push(t);
      continue;
    }
    const name = t.name ?? '';
    const dims = (t.dims ?? []).map(int64ToNumber);
    const dataType = t.dataType ?? DataType.FLOAT;
    kept.push(makeTensorProto(`${name}::probe_dims`, { dataType: DataType.INT64, dims: [dims.length], data: BigInt64Array.from(dims, BigInt) }));
    nodes.push({ name: `${name}::probe_zeros`, opType: 'ConstantOfShape', domain: '', input: [`${name}::probe_dims`], output: [name], attribute: [makeAttribute('value', { dataType, dims: [1], data: dataType === DataType.DOUBLE ? new Float64Array(1) : new Float32Array(1) })] });
    replaced.add(name);
  }
  probeGraph.initializer = kept;
  // Old exports list initializers among the inputs too: a made value is no input.
  probeGraph.input = (probeGraph.input ?? []).filter((i) => !replaced.has(i.name));
  return nodes;
}

/** One run of the probe (its errors name the problem for the user). */
async function probeRun(bytes: Uint8Array, feeds: Record<string, AnyTensor>, optimization: 'basic' | 'disabled', inputShapes: Record<string, number[]>): Promise<Record<string, AnyTensor>> {
  const session = await Session.create(bytes, { optimization }).catch((e: unknown) => {
    throw new ModelError(firstLine(e).startsWith('onnxruntime could not load the model') ? firstLine(e) : `onnxruntime cannot load the model: ${firstLine(e)}`);
  });
  try {
    return await session.run(feeds).catch((e: unknown) => {
      const shapes = Object.values(inputShapes).map((s) => `[${s.join(', ')}]`).join(', ');
      throw new ModelError(`the model cannot run on input shape ${shapes}: ${firstLine(e)}; give the input size the model was exported for`);
    });
  } finally {
    await session.release();
  }
}

function zeros(elemType: number, dims: number[]): AnyTensor {
  const n = elementCount(dims);
  switch (elemType) {
    case DataType.FLOAT: return { type: 'float32', data: new Float32Array(n), dims };
    case DataType.DOUBLE: return { type: 'float64', data: new Float64Array(n), dims };
    case DataType.INT64: return { type: 'int64', data: new BigInt64Array(n), dims };
    case DataType.INT32: return { type: 'int32', data: new Int32Array(n), dims };
    case DataType.UINT8: return { type: 'uint8', data: new Uint8Array(n), dims };
    default: throw new ModelError(`input element type ${elemType} is not supported: convlens feeds float32 or float64 images`);
  }
}

/** Replace each If whose condition is a constant by the nodes of the branch it takes. */
function inlineConstantIfs(graph: GraphProto, view: GraphView): boolean {
  let changed = false;
  const nodes: NodeProto[] = [];
  for (const node of graph.node) {
    const cond = node.opType === 'If' ? view.constant(node.input[0]!) : undefined;
    if (!cond) {
      nodes.push(node);
      continue;
    }
    const taken = toNumbers(cond.data)[0] ? 'then_branch' : 'else_branch';
    const branch = node.attribute?.find((a) => a.name === taken)?.g;
    if (!branch) throw new ModelError(`If node '${node.name}' has no ${taken}: the model is malformed`);
    nodes.push(...branch.node);
    graph.initializer = [...(graph.initializer ?? []), ...(branch.initializer ?? [])];
    (branch.output ?? []).forEach((o, i) => {
      nodes.push({ name: `${node.name}/${taken}/out${i}`, opType: 'Identity', domain: '', input: [o.name], output: [node.output[i]!], attribute: [] });
    });
    changed = true;
  }
  graph.node = nodes;
  return changed;
}
