/**
 * TF.js GraphModel (a frozen TF GraphDef in JSON) -> ONNX, op by op. Node names are kept as
 * ONNX tensor names, so a layer is found by its TF name (e.g. 'tower_0/keypoints').
 * Integer tensors keep TF's int32 (TopK's int64 indices are cast back); shape-like inputs
 * (axes, paddings, perm, begin/end) must be constants.
 */
import { DataType, toNumbers, type TensorValue } from '../../model/tensor-data.ts';
import type { ModelProto } from '../../model/onnx-proto.ts';
import { Emitter, NCHW_AXIS, onnxType, type Value } from './emitter.ts';
import { activation, asFloat, clip, conv, convKernel, depthwiseKernel, pool, type Padding, type Window } from './ops.ts';
import { ImportError } from './errors.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type AttrValue = Record<string, any>;

export interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
}

const text = (b64: string): string => new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));

class NodeAttrs {
  constructor(private readonly node: GraphNode) {}
  private get(key: string): AttrValue | undefined {
    return this.node.attr?.[key];
  }
  str(key: string, fallback = ''): string {
    const a = this.get(key);
    return a?.['s'] !== undefined ? text(a['s']) : fallback;
  }
  int(key: string, fallback = 0): number {
    const a = this.get(key);
    return a?.['i'] !== undefined ? Number(a['i']) : fallback;
  }
  float(key: string, fallback = 0): number {
    const a = this.get(key);
    return a?.['f'] !== undefined ? Number(a['f']) : fallback;
  }
  bool(key: string): boolean {
    return this.get(key)?.['b'] === true;
  }
  ints(key: string): number[] {
    return ((this.get(key)?.['list']?.['i'] ?? []) as string[]).map(Number);
  }
  strs(key: string): string[] {
    return ((this.get(key)?.['list']?.['s'] ?? []) as string[]).map(text);
  }
  type(key: string): string | undefined {
    return this.get(key)?.['type'];
  }
  shape(key: string): number[] | undefined {
    const dims = this.get(key)?.['shape']?.['dim'] as { size?: string }[] | undefined;
    return dims?.map((d) => Number(d.size ?? -1));
  }
}

interface OpCtx {
  e: Emitter;
  node: GraphNode;
  name: string;
  attrs: NodeAttrs;
  inputs: Value[];
  /** The constant value of input k (required). */
  constant: (k: number, what: string) => TensorValue;
}

type OpConverter = (ctx: OpCtx) => Value | Value[];

function window(ctx: OpCtx): Window {
  const a = ctx.attrs;
  if (a.str('data_format', 'NHWC') !== 'NHWC') throw new ImportError(`${ctx.node.op} '${ctx.name}' uses data_format ${a.str('data_format')}: convlens imports NHWC graphs`);
  const s = a.ints('strides');
  const d = a.ints('dilations');
  const p = a.str('padding', 'VALID');
  let padding: Padding;
  if (p === 'SAME' || p === 'VALID') padding = p;
  else if (p === 'EXPLICIT') {
    const e = a.ints('explicit_paddings'); // [n0, n1, t, b, l, r, c0, c1]
    padding = [e[2]!, e[4]!, e[3]!, e[5]!];
  } else throw new ImportError(`${ctx.node.op} '${ctx.name}' has padding '${p}'`);
  return { strides: [s[1] ?? 1, s[2] ?? 1], dilations: [d[1] ?? 1, d[2] ?? 1], padding };
}

/** Fused activations of _FusedConv2D / _FusedMatMul / FusedDepthwiseConv2dNative. */
function fused(ctx: OpCtx, build: (out: string, bias: TensorValue | undefined) => Value): Value {
  const ops = ctx.attrs.strs('fused_ops');
  let rest = ops;
  let bias: TensorValue | undefined;
  if (ops[0] === 'BiasAdd') {
    bias = asFloat(ctx.constant(2, 'the fused bias'));
    rest = ops.slice(1);
  } else if (ops.length > 0) {
    throw new ImportError(`${ctx.node.op} '${ctx.name}' fuses ${ops.join('+')}: convlens imports BiasAdd followed by an activation`);
  }
  if (rest.length > 1) throw new ImportError(`${ctx.node.op} '${ctx.name}' fuses ${ops.join('+')}: convlens imports one activation`);
  const act = rest[0];
  const y = build(act ? `${ctx.name}/linear` : ctx.name, bias);
  if (!act) return y;
  if (act === 'Prelu') {
    const { names, like } = ctx.e.align([y, ctx.inputs[3]!]);
    return ctx.e.op('PRelu', names, {}, ctx.name, like);
  }
  const kinds: Record<string, string> = { Relu: 'relu', Relu6: 'relu6', Elu: 'elu', Sigmoid: 'sigmoid', Tanh: 'tanh', LeakyRelu: 'leakyrelu' };
  const kind = kinds[act];
  if (!kind) throw new ImportError(`${ctx.node.op} '${ctx.name}' fuses activation ${act}: convlens imports ${Object.keys(kinds).join(', ')}, Prelu`);
  return activation(ctx.e, kind, y, ctx.name, ctx.attrs.float('leakyrelu_alpha', 0.2));
}

const conv2d: OpConverter = (ctx) => fused(ctx, (out, bias) =>
  conv(ctx.e, ctx.inputs[0]!, convKernel(asFloat(ctx.constant(1, 'the filter'))), bias, window(ctx), 1, out));

const depthwise: OpConverter = (ctx) => fused(ctx, (out, bias) => {
  const k = asFloat(ctx.constant(1, 'the filter'));
  return conv(ctx.e, ctx.inputs[0]!, depthwiseKernel(k), bias, window(ctx), k.dims[2]!, out);
});

const matmul: OpConverter = (ctx) => fused(ctx, (out, bias) => {
  const { e, attrs } = ctx;
  let a = e.plain(ctx.inputs[0]!);
  if (attrs.bool('transpose_a')) a = e.op('Transpose', [a.name], { perm: [1, 0] }, `${ctx.name}/a_t`, a);
  let b = e.plain(ctx.inputs[1]!);
  if (attrs.bool('transpose_b')) b = e.op('Transpose', [b.name], { perm: [1, 0] }, `${ctx.name}/b_t`, b);
  if (!bias) return e.op('MatMul', [a.name, b.name], {}, out, a);
  const m = e.op('MatMul', [a.name, b.name], {}, `${ctx.name}/matmul`, a);
  return e.op('Add', [m.name, e.constant(`${ctx.name}/bias`, bias).name], {}, out, a);
});

const binary = (op: string): OpConverter => (ctx) => {
  const { names, like } = ctx.e.align(ctx.inputs.slice(0, 2));
  return ctx.e.op(op, names, {}, ctx.name, like);
};

const unary = (kind: string): OpConverter => (ctx) => activation(ctx.e, kind, ctx.inputs[0]!, ctx.name, ctx.attrs.float('alpha', 0.2));

const isInt = (v: Value): boolean => v.dtype === DataType.INT32 || v.dtype === DataType.INT64;

/** floor(a / b): for integers (a - mod(a, b)) / b with Python-style mod, exact. */
const floorDiv: OpConverter = (ctx) => {
  const { e, name } = ctx;
  const { names, like } = e.align(ctx.inputs.slice(0, 2));
  if (isInt(ctx.inputs[0]!)) {
    const mod = e.op('Mod', names, { fmod: 0 }, `${name}/mod`, like);
    const sub = e.op('Sub', [names[0]!, mod.name], {}, `${name}/sub`, like);
    return e.op('Div', [sub.name, names[1]!], {}, name, like);
  }
  const q = e.op('Div', names, {}, `${name}/div`, like);
  return e.op('Floor', [q.name], {}, name, like);
};

/** a - b floor(a / b) (the sign of the divisor). */
const floorMod: OpConverter = (ctx) => {
  const { e, name } = ctx;
  const { names, like } = e.align(ctx.inputs.slice(0, 2));
  if (isInt(ctx.inputs[0]!)) return e.op('Mod', names, { fmod: 0 }, name, like);
  const q = e.op('Floor', [e.op('Div', names, {}, `${name}/div`, like).name], {}, `${name}/floor`, like);
  const bq = e.op('Mul', [names[1]!, q.name], {}, `${name}/mul`, like);
  return e.op('Sub', [names[0]!, bq.name], {}, name, like);
};

const axesOf = (ctx: OpCtx, k: number, rank: number): number[] =>
  toNumbers(ctx.constant(k, 'the axes').data).map((a) => (a < 0 ? a + rank : a));

const reduce = (op: 'ReduceMean' | 'ReduceMax'): OpConverter => (ctx) => {
  const { e, name } = ctx;
  let x = ctx.inputs[0]!;
  const rank = x.rank;
  if (rank === undefined) throw new ImportError(`${ctx.node.op} '${name}' reads a tensor of unknown rank`);
  const axes = axesOf(ctx, 1, rank);
  const keep = ctx.attrs.bool('keep_dims');
  if (x.nchw) {
    const kept = [0, 1, 2, 3].filter((a) => !axes.includes(a));
    // Without keep_dims the NCHW result is in TF order unless channels precede H or W.
    const sameOrder = keep || !(kept.includes(3) && (kept.includes(1) || kept.includes(2)));
    if (sameOrder) {
      return e.op(op, [x.name], { axes: axes.map((a) => NCHW_AXIS[a]!), keepdims: keep ? 1 : 0 }, name,
        keep ? x : { rank: kept.length, nchw: false, dtype: x.dtype });
    }
    x = e.plain(x);
  }
  return e.op(op, [x.name], { axes, keepdims: keep ? 1 : 0 }, name, { rank: keep ? rank : rank - axes.length, nchw: false, dtype: x.dtype });
};

const concat: OpConverter = (ctx) => {
  const { e, name } = ctx;
  const xs = ctx.inputs.slice(0, -1);
  const rank = xs[0]!.rank ?? 0;
  const axisValue = toNumbers(ctx.constant(ctx.inputs.length - 1, 'the axis').data)[0]!;
  const axis = axisValue < 0 ? axisValue + rank : axisValue;
  if (rank === 4 && xs.some((x) => x.nchw)) {
    return e.op('Concat', xs.map((x) => e.nchw(x, `ConcatV2 '${name}'`).name), { axis: NCHW_AXIS[axis]! }, name, { rank: 4, nchw: true, dtype: xs[0]!.dtype });
  }
  return e.op('Concat', xs.map((x) => e.plain(x).name), { axis }, name, { rank: xs[0]!.rank, nchw: false, dtype: xs[0]!.dtype });
};

const pad: OpConverter = (ctx) => {
  const { e, name } = ctx;
  const x = ctx.inputs[0]!;
  const p = toNumbers(ctx.constant(1, 'the paddings').data);
  const r = p.length / 2;
  const order = x.nchw ? [0, 3, 1, 2] : Array.from({ length: r }, (_, i) => i);
  const pads = [...order.map((a) => p[2 * a]!), ...order.map((a) => p[2 * a + 1]!)];
  const inputs = [x.name, e.int64s(`${name}/pads`, pads)];
  if (ctx.node.op === 'PadV2') inputs.push(e.constant(`${name}/value`, { ...ctx.constant(2, 'the pad value'), dims: [] }).name);
  return e.op('Pad', inputs, { mode: 'constant' }, name, x);
};

const reshape: OpConverter = (ctx) => {
  const { e, name } = ctx;
  const x = e.plain(ctx.inputs[0]!);
  const s = ctx.inputs[1]!;
  const c = e.constantOf(s);
  if (c) {
    const shape = toNumbers(c.data);
    return e.op('Reshape', [x.name, e.int64s(`${name}/shape`, shape)], {}, name, { rank: shape.length, nchw: false, dtype: x.dtype });
  }
  const cast = e.op('Cast', [s.name], { to: DataType.INT64 }, `${name}/shape`, s);
  return e.op('Reshape', [x.name, cast.name], {}, name, { rank: undefined, nchw: false, dtype: x.dtype });
};

const squeeze: OpConverter = (ctx) => {
  const { e, name } = ctx;
  const x = e.plain(ctx.inputs[0]!);
  const axes = ctx.attrs.ints('squeeze_dims');
  if (axes.length === 0 || x.rank === undefined) throw new ImportError(`Squeeze '${name}' names no squeeze_dims: convlens imports Squeeze with explicit axes`);
  return e.op('Squeeze', [x.name, e.int64s(`${name}/axes`, axes)], {}, name, { ...x, rank: x.rank - axes.length });
};

const expandDims: OpConverter = (ctx) => {
  const { e, name } = ctx;
  const x = e.plain(ctx.inputs[0]!);
  const dim = toNumbers(ctx.constant(1, 'the dim').data)[0]!;
  return e.op('Unsqueeze', [x.name, e.int64s(`${name}/axes`, [dim])], {}, name, { ...x, rank: x.rank === undefined ? undefined : x.rank + 1 });
};

const transpose: OpConverter = (ctx) => {
  const x = ctx.e.plain(ctx.inputs[0]!);
  const perm = toNumbers(ctx.constant(1, 'the permutation').data);
  return ctx.e.op('Transpose', [x.name], { perm }, ctx.name, x);
};

/**
 * TF resize -> ONNX Resize: align_corners -> 'align_corners'; half_pixel_centers ->
 * 'half_pixel' (nearest: rounding half up, TF's floor((o + 0.5) * in / out)); neither ->
 * 'asymmetric' with floor.
 */
const resize = (mode: 'linear' | 'nearest'): OpConverter => (ctx) => {
  const { e, name, attrs } = ctx;
  const x = e.nchw(ctx.inputs[0]!, `${ctx.node.op} '${name}'`);
  const size = toNumbers(ctx.constant(1, 'the size').data);
  const shape = e.op('Shape', [x.name], {}, `${name}/shape`, { rank: 1, nchw: false, dtype: DataType.INT64 });
  const nc = e.op('Slice', [shape.name, e.int64s(`${name}/zero`, [0]), e.int64s(`${name}/two`, [2])], {}, `${name}/nc`, shape);
  const sizes = e.op('Concat', [nc.name, e.int64s(`${name}/hw`, size)], { axis: 0 }, `${name}/sizes`, shape);
  const align = attrs.bool('align_corners');
  const half = attrs.bool('half_pixel_centers');
  const transform = align ? 'align_corners' : half ? 'half_pixel' : 'asymmetric';
  const nearest = align || half ? 'round_prefer_ceil' : 'floor';
  return e.op('Resize', [x.name, '', '', sizes.name], {
    mode,
    coordinate_transformation_mode: transform,
    ...(mode === 'nearest' ? { nearest_mode: nearest } : {}),
  }, name, x);
};

const BIG = 2 ** 62;

/** StridedSlice with begin/end/shrink masks (no ellipsis or new axes) -> Slice (+ Squeeze). */
const stridedSlice: OpConverter = (ctx) => {
  const { e, name, attrs } = ctx;
  const x = e.plain(ctx.inputs[0]!);
  if (attrs.int('ellipsis_mask') || attrs.int('new_axis_mask')) throw new ImportError(`StridedSlice '${name}' uses an ellipsis or new-axis mask: convlens imports begin/end/shrink masks`);
  const begin = toNumbers(ctx.constant(1, 'begin').data);
  const end = toNumbers(ctx.constant(2, 'end').data);
  const steps = toNumbers(ctx.constant(3, 'strides').data);
  const [bm, em, sm] = [attrs.int('begin_mask'), attrs.int('end_mask'), attrs.int('shrink_axis_mask')];
  const starts: number[] = [];
  const ends: number[] = [];
  const shrink: number[] = [];
  begin.forEach((b, i) => {
    const step = steps[i]!;
    const bit = 1 << i;
    if (sm & bit) {
      starts.push(b);
      ends.push(b === -1 ? BIG : b + 1);
      shrink.push(i);
      return;
    }
    starts.push(bm & bit ? (step > 0 ? 0 : BIG) : b);
    ends.push(em & bit ? (step > 0 ? BIG : -BIG) : end[i]!);
  });
  const axes = begin.map((_, i) => i);
  const sliced = e.op('Slice', [x.name, e.int64s(`${name}/starts`, starts), e.int64s(`${name}/ends`, ends), e.int64s(`${name}/axes`, axes), e.int64s(`${name}/steps`, steps)], {},
    shrink.length ? `${name}/slice` : name, x);
  if (!shrink.length) return sliced;
  return e.op('Squeeze', [sliced.name, e.int64s(`${name}/shrink`, shrink)], {}, name, { ...x, rank: x.rank === undefined ? undefined : x.rank - shrink.length });
};

const gather: OpConverter = (ctx) => {
  const { e, name } = ctx;
  if (ctx.attrs.int('batch_dims')) throw new ImportError(`GatherV2 '${name}' has batch_dims: convlens imports batch_dims 0`);
  const x = e.plain(ctx.inputs[0]!);
  const idx = e.plain(ctx.inputs[1]!);
  const axis = toNumbers(ctx.constant(2, 'the axis').data)[0]!;
  const rank = x.rank !== undefined && idx.rank !== undefined ? x.rank + idx.rank - 1 : undefined;
  return e.op('Gather', [x.name, idx.name], { axis }, name, { rank, nchw: false, dtype: x.dtype });
};

const topK: OpConverter = (ctx) => {
  const { e, name } = ctx;
  const x = e.plain(ctx.inputs[0]!);
  const k = toNumbers(ctx.constant(1, 'k').data)[0]!;
  const [values, indices] = e.node('TopK', [x.name, e.int64s(`${name}/k`, [k])], { axis: -1, largest: 1, sorted: 1 }, name, 2);
  const cast = e.op('Cast', [indices!], { to: DataType.INT32 }, `${name}:1`, { ...x, dtype: DataType.INT32 });
  return [{ ...x, name: values! }, cast];
};

const ops: Record<string, OpConverter> = {
  Conv2D: conv2d,
  _FusedConv2D: conv2d,
  DepthwiseConv2dNative: depthwise,
  DepthwiseConv2D: depthwise,
  FusedDepthwiseConv2dNative: depthwise,
  MatMul: matmul,
  _FusedMatMul: matmul,
  BiasAdd: binary('Add'),
  Add: binary('Add'),
  AddV2: binary('Add'),
  Mul: binary('Mul'),
  Sub: binary('Sub'),
  RealDiv: binary('Div'),
  FloorDiv: floorDiv,
  FloorMod: floorMod,
  Equal: (ctx) => ({ ...binary('Equal')(ctx) as Value, dtype: DataType.BOOL }),
  Cast: (ctx) => {
    const to = onnxType(ctx.attrs.type('DstT'), `Cast '${ctx.name}'`);
    return ctx.e.op('Cast', [ctx.inputs[0]!.name], { to }, ctx.name, { ...ctx.inputs[0]!, dtype: to });
  },
  Relu: unary('relu'),
  Relu6: (ctx) => clip(ctx.e, ctx.inputs[0]!, 0, 6, ctx.name),
  Elu: unary('elu'),
  Sigmoid: unary('sigmoid'),
  Tanh: unary('tanh'),
  LeakyRelu: unary('leakyrelu'),
  Softmax: unary('softmax'),
  MaxPool: (ctx) => {
    const k = ctx.attrs.ints('ksize');
    return pool(ctx.e, 'MaxPool', ctx.inputs[0]!, [k[1]!, k[2]!], window(ctx), ctx.name);
  },
  AvgPool: (ctx) => {
    const k = ctx.attrs.ints('ksize');
    return pool(ctx.e, 'AveragePool', ctx.inputs[0]!, [k[1]!, k[2]!], window(ctx), ctx.name);
  },
  Mean: reduce('ReduceMean'),
  Max: reduce('ReduceMax'),
  ConcatV2: concat,
  Pad: pad,
  PadV2: pad,
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  Transpose: transpose,
  ResizeBilinear: resize('linear'),
  ResizeNearestNeighbor: resize('nearest'),
  StridedSlice: stridedSlice,
  GatherV2: gather,
  TopKV2: topK,
  Identity: (ctx) => ctx.e.op('Identity', [ctx.inputs[0]!.name], {}, ctx.name, ctx.inputs[0]!),
};
ops['StopGradient'] = ops['Identity']!;

export const supportedOps = [...Object.keys(ops), 'Const', 'Placeholder'];

export interface GraphModelJson {
  modelTopology: { node: GraphNode[] };
  signature?: { outputs?: Record<string, { name: string }> };
  userDefinedMetadata?: { signature?: { outputs?: Record<string, { name: string }> } };
}

const baseName = (ref: string): string => ref.replace(/^\^/, '').replace(/:\d+$/, '');

/** Convert a GraphModel with its decoded weights. */
export function convertGraphModel(json: GraphModelJson, weights: Map<string, TensorValue>): ModelProto {
  const nodes = json.modelTopology.node;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const signature = json.signature?.outputs ?? json.userDefinedMetadata?.signature?.outputs;
  const consumed = new Set(nodes.flatMap((n) => (n.input ?? []).map(baseName)));
  const outputRefs = signature
    ? Object.values(signature).map((o) => o.name.replace(/:0$/, ''))
    : nodes.filter((n) => !consumed.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp').map((n) => n.name);
  // Topological order of what the outputs need (a GraphDef lists nodes in any order).
  const order: GraphNode[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (name: string): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'open') throw new ImportError(`the graph has a cycle through '${name}': convlens imports acyclic graphs`);
    const node = byName.get(name);
    if (!node) throw new ImportError(`the graph reads '${name}', which it does not define: the model.json is incomplete`);
    state.set(name, 'open');
    for (const ref of node.input ?? []) if (!ref.startsWith('^')) visit(baseName(ref));
    state.set(name, 'done');
    order.push(node);
  };
  for (const ref of outputRefs) visit(baseName(ref));

  const e = new Emitter();
  const values = new Map<string, Value>();
  for (const node of order) {
    const attrs = new NodeAttrs(node);
    if (node.op === 'Const') {
      const w = weights.get(node.name);
      if (!w) throw new ImportError(`constant '${node.name}' is missing from the weights manifest: the weight files do not belong to this model.json`);
      values.set(node.name, e.constant(node.name, w));
      continue;
    }
    if (node.op === 'Placeholder') {
      const dims = attrs.shape('shape');
      if (!dims) throw new ImportError(`input '${node.name}' declares no shape: convert the model with a fixed input rank`);
      values.set(node.name, e.input(node.name, dims.map((d, i) => (d >= 0 ? d : i === 0 ? 'N' : `${node.name}_d${i}`)), onnxType(attrs.type('dtype'), `input '${node.name}'`)));
      continue;
    }
    const convert = ops[node.op];
    if (!convert) throw new ImportError(`op ${node.op} of node '${node.name}' is not supported; convlens imports ${supportedOps.join(', ')}`);
    const inputs = (node.input ?? []).filter((r) => !r.startsWith('^')).map((ref) => {
      const v = values.get(ref.endsWith(':0') ? ref.slice(0, -2) : ref);
      if (!v) throw new ImportError(`node '${node.name}' reads '${ref}', which is not available`);
      return v;
    });
    const ctx: OpCtx = {
      e, node, name: node.name, attrs, inputs,
      constant: (k, what) => {
        const v = inputs[k];
        const c = v ? e.constantOf(v) : undefined;
        if (!c) throw new ImportError(`${node.op} '${node.name}' needs ${what} (input ${k}) to be a constant: convlens imports graphs whose ${what} is fixed`);
        return c;
      },
    };
    const out = convert(ctx);
    const outs = Array.isArray(out) ? out : [out];
    outs.forEach((v, k) => values.set(k === 0 ? node.name : `${node.name}:${k}`, v));
  }
  const outputs = outputRefs.map((ref) => {
    const v = values.get(ref);
    if (!v) throw new ImportError(`output '${ref}' was not produced`);
    return v;
  });
  return e.finish(outputs, 'convlens-tfjs-import');
}
