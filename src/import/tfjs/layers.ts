/**
 * TF.js LayersModel (Keras topology) -> ONNX. Each Keras layer becomes one or a few ONNX
 * nodes whose final output carries the layer's name, so `--layer out_relu` names the same
 * tensor the Keras model calls out_relu (stored NCHW, see emitter.ts).
 */
import { DataType, type TensorValue } from '../../model/tensor-data.ts';
import type { ModelProto } from '../../model/onnx-proto.ts';
import { Emitter, NCHW_AXIS, type Value } from './emitter.ts';
import { activation, clip, conv, convKernel, depthwiseKernel, pool, type Padding } from './ops.ts';
import { ImportError } from './errors.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Config = Record<string, any>;

interface KerasLayer {
  class_name: string;
  name?: string;
  config: Config;
  inbound_nodes?: unknown[];
}

interface Ctx {
  e: Emitter;
  name: string;
  config: Config;
  weight: (suffix: string) => TensorValue;
  optionalWeight: (suffix: string) => TensorValue | undefined;
}

const pair = (v: unknown, fallback: number): [number, number] => {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0]!, a[1] ?? a[0]!];
};

function padding(c: Config, name: string): Padding {
  if (c['data_format'] && c['data_format'] !== 'channels_last') {
    throw new ImportError(`layer '${name}' uses data_format ${String(c['data_format'])}: convlens imports channels_last layers`);
  }
  const p = String(c['padding'] ?? 'valid');
  if (p === 'same') return 'SAME';
  if (p === 'valid') return 'VALID';
  throw new ImportError(`layer '${name}' has padding '${p}': convlens imports 'same' and 'valid'`);
}

const window = (c: Config, name: string) => ({ strides: pair(c['strides'], 1), dilations: pair(c['dilation_rate'], 1), padding: padding(c, name) });

function dense(ctx: Ctx, x: Value): Value {
  const { e, name, config } = ctx;
  const act = String(config['activation'] ?? 'linear');
  const out = act === 'linear' ? name : `${name}/linear`;
  const xp = e.plain(x);
  const kernel = e.constant(`${name}/kernel`, ctx.weight('kernel')).name;
  const bias = config['use_bias'] === false ? undefined : e.constant(`${name}/bias`, ctx.weight('bias')).name;
  const y = xp.rank === 2
    ? e.op('Gemm', bias ? [xp.name, kernel, bias] : [xp.name, kernel], {}, out, xp)
    : bias
      ? e.op('Add', [e.op('MatMul', [xp.name, kernel], {}, `${name}/matmul`, xp).name, bias], {}, out, xp)
      : e.op('MatMul', [xp.name, kernel], {}, out, xp);
  return activation(e, act, y, name);
}

/** Conv-like layers: the linear part named `<name>/linear` when an activation follows. */
function convLike(ctx: Ctx, x: Value, emit: (out: string) => Value): Value {
  const act = String(ctx.config['activation'] ?? 'linear');
  return activation(ctx.e, act, emit(act === 'linear' ? ctx.name : `${ctx.name}/linear`), ctx.name);
}

const bias = (ctx: Ctx): TensorValue | undefined => (ctx.config['use_bias'] === false ? undefined : ctx.weight('bias'));

function convTranspose(ctx: Ctx, x: Value, out: string): Value {
  const { e, name, config } = ctx;
  const w = window(config, name);
  if (w.dilations[0] !== 1 || w.dilations[1] !== 1) throw new ImportError(`Conv2DTranspose '${name}' has a dilation rate: convlens imports dilation 1 only`);
  if (config['output_padding']) throw new ImportError(`Conv2DTranspose '${name}' sets output_padding: convlens imports it without`);
  const kernel = convKernel(ctx.weight('kernel'));
  const k = kernel.dims.slice(2) as [number, number];
  // Output size in * s (same) or in * s + max(k - s, 0) (valid), as Keras' deconv_output_length:
  // ONNX gives s (in - 1) + k - pads + output_padding.
  const total = k.map((ki, i) => (w.padding === 'SAME' ? Math.max(ki - w.strides[i]!, 0) : 0));
  const pads = [Math.floor(total[0]! / 2), Math.floor(total[1]! / 2), total[0]! - Math.floor(total[0]! / 2), total[1]! - Math.floor(total[1]! / 2)];
  const output_padding = k.map((ki, i) => Math.max(w.strides[i]! - ki, 0));
  const xc = e.nchw(x, `Conv2DTranspose '${name}'`);
  const b = bias(ctx);
  const inputs = [xc.name, e.constant(`${name}/weight`, kernel).name, ...(b ? [e.constant(`${name}/bias`, b).name] : [])];
  return e.op('ConvTranspose', inputs, { kernel_shape: k, strides: w.strides, pads, output_padding }, out, { rank: 4, nchw: true, dtype: DataType.FLOAT });
}

function batchNorm(ctx: Ctx, x: Value): Value {
  const { e, name, config } = ctx;
  const axis = Array.isArray(config['axis']) ? config['axis'][0] : config['axis'] ?? -1;
  const rank = x.rank ?? 4;
  if (axis !== -1 && axis !== rank - 1) throw new ImportError(`BatchNormalization '${name}' normalizes axis ${String(axis)}: convlens imports the channel (last) axis`);
  const mean = ctx.weight('moving_mean');
  const channels = mean.dims[0]!;
  const filled = (v: number): TensorValue => ({ dataType: DataType.FLOAT, dims: [channels], data: new Float32Array(channels).fill(v) });
  const gamma = config['scale'] === false ? filled(1) : ctx.weight('gamma');
  const beta = config['center'] === false ? filled(0) : ctx.weight('beta');
  const xi = rank === 4 ? e.nchw(x, `BatchNormalization '${name}'`) : e.plain(x);
  if (rank !== 4 && rank !== 2) throw new ImportError(`BatchNormalization '${name}' has a rank-${rank} input: convlens imports rank 2 and 4`);
  const inputs = [xi.name, ...[gamma, beta, mean, ctx.weight('moving_variance')].map((t, i) => e.constant(`${name}/${['scale', 'bias', 'mean', 'var'][i]}`, t).name)];
  return e.op('BatchNormalization', inputs, { epsilon: Number(config['epsilon'] ?? 1e-3) }, name, xi);
}

/** Keras ReLU: max_value where x >= max_value, x above threshold 0, negative_slope * x below. */
function relu(ctx: Ctx, x: Value): Value {
  const { e, name, config } = ctx;
  if (Number(config['threshold'] ?? 0) !== 0) throw new ImportError(`ReLU '${name}' has a threshold: convlens imports threshold 0`);
  const max = config['max_value'] ?? null;
  const slope = Number(config['negative_slope'] ?? 0);
  if (slope === 0) return max === null ? e.op('Relu', [x.name], {}, name, x) : clip(e, x, 0, Number(max), name);
  if (max === null) return e.op('LeakyRelu', [x.name], { alpha: slope }, name, x);
  const leaky = e.op('LeakyRelu', [x.name], { alpha: slope }, `${name}/leaky`, x);
  return clip(e, leaky, -3.4e38, Number(max), name);
}

function concatenate(ctx: Ctx, xs: Value[]): Value {
  const { e, name, config } = ctx;
  const rank = xs[0]!.rank ?? 0;
  let axis = Number(config['axis'] ?? -1);
  if (axis < 0) axis += rank;
  if (rank === 4 && xs.some((x) => x.nchw)) {
    const ins = xs.map((x) => e.nchw(x, `Concatenate '${name}'`).name);
    return e.op('Concat', ins, { axis: NCHW_AXIS[axis]! }, name, { rank: 4, nchw: true, dtype: xs[0]!.dtype });
  }
  return e.op('Concat', xs.map((x) => e.plain(x).name), { axis }, name, { ...e.plain(xs[0]!) });
}

function nary(ctx: Ctx, op: 'Add' | 'Mul', xs: Value[]): Value {
  let acc = xs[0]!;
  for (let i = 1; i < xs.length; i++) {
    const { names, like } = ctx.e.align([acc, xs[i]!]);
    acc = ctx.e.op(op, names, {}, i === xs.length - 1 ? ctx.name : `${ctx.name}/${i}`, like);
  }
  return acc;
}

function zeroPadding(ctx: Ctx, x: Value): Value {
  const p = ctx.config['padding'] ?? 1;
  const [[t, b], [l, r]] = typeof p === 'number' ? [[p, p], [p, p]]
    : Array.isArray(p[0]) ? [p[0] as number[], p[1] as number[]]
    : [[p[0], p[0]], [p[1], p[1]]];
  const xc = ctx.e.nchw(x, `ZeroPadding2D '${ctx.name}'`);
  return ctx.e.op('Pad', [xc.name, ctx.e.int64s(`${ctx.name}/pads`, [0, 0, t!, l!, 0, 0, b!, r!])], { mode: 'constant' }, ctx.name, xc);
}

function reshape(ctx: Ctx, x: Value): Value {
  const target = (ctx.config['target_shape'] as number[]).map((d) => (d === null ? -1 : d));
  const xp = ctx.e.plain(x);
  // Leading 0 copies the batch dimension (ONNX Reshape, allowzero = 0).
  return ctx.e.op('Reshape', [xp.name, ctx.e.int64s(`${ctx.name}/shape`, [0, ...target])], {}, ctx.name, { rank: target.length + 1, nchw: false, dtype: x.dtype });
}

function upSampling(ctx: Ctx, x: Value): Value {
  const [sh, sw] = pair(ctx.config['size'], 2);
  const mode = String(ctx.config['interpolation'] ?? 'nearest');
  if (mode !== 'nearest' && mode !== 'bilinear') throw new ImportError(`UpSampling2D '${ctx.name}' uses ${mode} interpolation: convlens imports nearest and bilinear`);
  const xc = ctx.e.nchw(x, `UpSampling2D '${ctx.name}'`);
  // TF.js resizes with align_corners = half_pixel_centers = false: ONNX 'asymmetric'.
  const scales = ctx.e.constant(`${ctx.name}/scales`, { dataType: DataType.FLOAT, dims: [4], data: Float32Array.of(1, 1, sh, sw) }).name;
  return ctx.e.op('Resize', [xc.name, '', scales], {
    mode: mode === 'nearest' ? 'nearest' : 'linear',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  }, ctx.name, xc);
}

function globalPool(ctx: Ctx, x: Value, op: 'ReduceMean' | 'ReduceMax'): Value {
  const keep = ctx.config['keepdims'] === true;
  const xc = ctx.e.nchw(x, `${ctx.name}`);
  return ctx.e.op(op, [xc.name], { axes: [2, 3], keepdims: keep ? 1 : 0 }, ctx.name, keep ? xc : { rank: 2, nchw: false, dtype: x.dtype });
}

type Converter = (ctx: Ctx, xs: Value[]) => Value;

const one = (f: (ctx: Ctx, x: Value) => Value): Converter => (ctx, xs) => f(ctx, xs[0]!);

const converters: Record<string, Converter> = {
  Conv2D: one((ctx, x) => convLike(ctx, x, (out) =>
    conv(ctx.e, x, convKernel(ctx.weight('kernel')), bias(ctx), window(ctx.config, ctx.name), Number(ctx.config['groups'] ?? 1), out))),
  DepthwiseConv2D: one((ctx, x) => convLike(ctx, x, (out) => {
    const k = ctx.weight('depthwise_kernel');
    return conv(ctx.e, x, depthwiseKernel(k), bias(ctx), window(ctx.config, ctx.name), k.dims[2]!, out);
  })),
  SeparableConv2D: one((ctx, x) => convLike(ctx, x, (out) => {
    const k = ctx.weight('depthwise_kernel');
    const d = conv(ctx.e, x, depthwiseKernel(k), undefined, window(ctx.config, ctx.name), k.dims[2]!, `${ctx.name}/depthwise`);
    return conv(ctx.e, d, convKernel(ctx.weight('pointwise_kernel')), bias(ctx), { strides: [1, 1], padding: 'VALID' }, 1, out);
  })),
  Conv2DTranspose: one((ctx, x) => convLike(ctx, x, (out) => convTranspose(ctx, x, out))),
  Dense: one(dense),
  BatchNormalization: one(batchNorm),
  Activation: one((ctx, x) => {
    const kind = String(ctx.config['activation']);
    return kind === 'linear' ? ctx.e.op('Identity', [x.name], {}, ctx.name, x) : activation(ctx.e, kind, x, ctx.name);
  }),
  ReLU: one(relu),
  LeakyReLU: one((ctx, x) => ctx.e.op('LeakyRelu', [x.name], { alpha: Number(ctx.config['alpha'] ?? 0.3) }, ctx.name, x)),
  Softmax: one((ctx, x) => {
    const axis = Number(ctx.config['axis'] ?? -1);
    if (axis !== -1 && axis !== (x.rank ?? 0) - 1) throw new ImportError(`Softmax '${ctx.name}' normalizes axis ${axis}: convlens imports the last axis`);
    return activation(ctx.e, 'softmax', x, ctx.name);
  }),
  Add: (ctx, xs) => nary(ctx, 'Add', xs),
  Multiply: (ctx, xs) => nary(ctx, 'Mul', xs),
  Concatenate: concatenate,
  MaxPooling2D: one((ctx, x) => {
    const k = pair(ctx.config['pool_size'], 2);
    return pool(ctx.e, 'MaxPool', x, k, { strides: pair(ctx.config['strides'] ?? k, 1), padding: padding(ctx.config, ctx.name) }, ctx.name);
  }),
  AveragePooling2D: one((ctx, x) => {
    const k = pair(ctx.config['pool_size'], 2);
    return pool(ctx.e, 'AveragePool', x, k, { strides: pair(ctx.config['strides'] ?? k, 1), padding: padding(ctx.config, ctx.name) }, ctx.name);
  }),
  GlobalAveragePooling2D: one((ctx, x) => globalPool(ctx, x, 'ReduceMean')),
  GlobalMaxPooling2D: one((ctx, x) => globalPool(ctx, x, 'ReduceMax')),
  ZeroPadding2D: one(zeroPadding),
  Flatten: one((ctx, x) => {
    const xp = ctx.e.plain(x); // Keras flattens in NHWC order
    return ctx.e.op('Flatten', [xp.name], { axis: 1 }, ctx.name, { rank: 2, nchw: false, dtype: x.dtype });
  }),
  Reshape: one(reshape),
  Dropout: one((ctx, x) => ctx.e.op('Identity', [x.name], {}, ctx.name, x)),
  SpatialDropout2D: one((ctx, x) => ctx.e.op('Identity', [x.name], {}, ctx.name, x)),
  UpSampling2D: one(upSampling),
};

export const supportedLayers = Object.keys(converters);

/** The Keras model config inside a TF.js modelTopology (tfjs- or Keras-written). */
function modelConfig(topology: Config): { class_name: string; config: Config } {
  const mc = (topology['model_config'] ?? topology) as { class_name?: string; config?: Config };
  if (!mc.class_name || !mc.config) throw new ImportError('the LayersModel topology has no model config: the model.json is not a TF.js LayersModel');
  return { class_name: mc.class_name, config: mc.config };
}

function inputDims(config: Config, name: string): (number | string)[] {
  const shape = (config['batch_input_shape'] ?? config['batch_shape']) as (number | null)[] | undefined;
  if (!shape) throw new ImportError(`input '${name}' declares no batch_input_shape: save the model with an input shape`);
  return shape.map((d, i) => (d === null || d < 0 ? (i === 0 ? 'N' : `${name}_d${i}`) : d));
}

/** Convert a LayersModel topology with its decoded weights. */
export function convertLayersModel(topology: Config, weights: Map<string, TensorValue>): ModelProto {
  const { class_name, config } = modelConfig(topology);
  const e = new Emitter();
  const values = new Map<string, Value>();
  const layers = (Array.isArray(config) ? config : config['layers']) as KerasLayer[];
  const sequential = class_name === 'Sequential';
  if (!sequential && class_name !== 'Model' && class_name !== 'Functional') {
    throw new ImportError(`model class '${class_name}' is not supported: convlens imports Sequential and functional (Model) LayersModels`);
  }
  const lookup = (name: string, suffix: string): TensorValue | undefined => {
    const exact = weights.get(`${name}/${suffix}`);
    if (exact) return exact;
    for (const [k, v] of weights) if (k.endsWith(`/${name}/${suffix}`)) return v;
    return undefined;
  };
  let previous: Value | undefined;
  for (const [index, layer] of layers.entries()) {
    const name = String(layer.config['name'] ?? layer.name);
    if (layer.class_name === 'InputLayer') {
      previous = e.input(name, inputDims(layer.config, name), DataType.FLOAT);
      values.set(name, previous);
      continue;
    }
    if (sequential && index === 0) previous = e.input(`${name}_input`, inputDims(layer.config, name), DataType.FLOAT);
    const convert = converters[layer.class_name];
    if (!convert) throw new ImportError(`layer '${name}' (${layer.class_name}) is not supported; convlens imports ${supportedLayers.join(', ')}`);
    let xs: Value[];
    if (sequential) xs = [previous!];
    else {
      const inbound = (layer.inbound_nodes ?? []) as [string, number, number][][];
      if (inbound.length !== 1) throw new ImportError(`layer '${name}' is called ${inbound.length} times: convlens imports layers used once (no shared layers)`);
      xs = inbound[0]!.map(([from]) => {
        const v = values.get(from);
        if (!v) throw new ImportError(`layer '${name}' reads '${from}', which is not defined before it`);
        return v;
      });
    }
    const ctx: Ctx = {
      e,
      name,
      config: layer.config,
      optionalWeight: (suffix) => lookup(name, suffix),
      weight: (suffix) => {
        const w = lookup(name, suffix);
        if (!w) throw new ImportError(`weight '${name}/${suffix}' of layer '${name}' is missing from the weights manifest`);
        return w;
      },
    };
    previous = convert(ctx, xs);
    values.set(name, previous);
  }
  const outputNames = sequential ? [String(layers[layers.length - 1]!.config['name'])] : (config['output_layers'] as [string, number, number][]).map(([n]) => n);
  return e.finish(outputNames.map((n) => values.get(n)!), 'convlens-tfjs-import');
}
