/**
 * The TF operations both converters share (convolution, pooling, activations), emitted in
 * NCHW. TF's 'SAME' padding puts the extra row/column at the end, which is ONNX's
 * SAME_UPPER; TF's average pooling divides by the number of unpadded elements, which is
 * ONNX's count_include_pad = 0.
 */
import { DataType, type TensorValue } from '../../model/tensor-data.ts';
import { permute, type Emitter, type Value } from './emitter.ts';
import { ImportError } from './errors.ts';

/** TF padding: 'SAME', 'VALID', or explicit [top, left, bottom, right]. */
export type Padding = 'SAME' | 'VALID' | number[];

export interface Window {
  strides: [number, number];
  dilations?: [number, number];
  padding: Padding;
}

function padAttrs(padding: Padding): { auto_pad?: string; pads?: number[] } {
  if (padding === 'SAME') return { auto_pad: 'SAME_UPPER' };
  if (padding === 'VALID') return { pads: [0, 0, 0, 0] };
  return { pads: padding };
}

/** Conv2D kernel [kh, kw, in, out] -> ONNX [out, in, kh, kw]. */
export function convKernel(k: TensorValue): TensorValue {
  return permute(k, [3, 2, 0, 1]);
}

/** Depthwise kernel [kh, kw, C, M] -> ONNX [C * M, 1, kh, kw] (output channel c * M + m). */
export function depthwiseKernel(k: TensorValue): TensorValue {
  const p = permute(k, [2, 3, 0, 1]);
  return { ...p, dims: [p.dims[0]! * p.dims[1]!, 1, p.dims[2]!, p.dims[3]!] };
}

export function asFloat(v: TensorValue): TensorValue {
  return v.dataType === DataType.FLOAT ? v : { dataType: DataType.FLOAT, dims: v.dims, data: Float32Array.from(v.data as ArrayLike<number>) };
}

/** Conv with an ONNX-layout weight, optional bias [out], group. */
export function conv(e: Emitter, x: Value, weight: TensorValue, bias: TensorValue | undefined, win: Window, group: number, name: string): Value {
  const xc = e.nchw(x, `convolution '${name}'`);
  const w = e.constant(`${name}/weight`, weight).name;
  const inputs = bias ? [xc.name, w, e.constant(`${name}/bias`, bias).name] : [xc.name, w];
  return e.op('Conv', inputs, {
    kernel_shape: weight.dims.slice(2),
    strides: win.strides,
    dilations: win.dilations ?? [1, 1],
    group,
    ...padAttrs(win.padding),
  }, name, { rank: 4, nchw: true, dtype: DataType.FLOAT });
}

export function pool(e: Emitter, kind: 'MaxPool' | 'AveragePool', x: Value, kernel: [number, number], win: Window, name: string): Value {
  const xc = e.nchw(x, `pooling '${name}'`);
  return e.op(kind, [xc.name], {
    kernel_shape: kernel,
    strides: win.strides,
    ...padAttrs(win.padding),
    ...(kind === 'AveragePool' ? { count_include_pad: 0 } : {}),
  }, name, { rank: 4, nchw: true, dtype: DataType.FLOAT });
}

/** Clip to [lo, hi] (ReLU6 is clip(x, 0, 6)). */
export function clip(e: Emitter, x: Value, lo: number, hi: number, name: string): Value {
  return e.op('Clip', [x.name, e.scalar(`${name}/min`, lo), e.scalar(`${name}/max`, hi)], {}, name, x);
}

/**
 * An activation by its Keras/TF name; 'linear' emits nothing. `alpha` is LeakyRelu's slope.
 * hard_sigmoid is Keras' clip(0.2 x + 0.5, 0, 1); swish is x * sigmoid(x).
 */
export function activation(e: Emitter, kind: string, x: Value, name: string, alpha = 0.2): Value {
  switch (kind) {
    case 'linear': return x;
    case 'relu': return e.op('Relu', [x.name], {}, name, x);
    case 'relu6': return clip(e, x, 0, 6, name);
    case 'sigmoid': return e.op('Sigmoid', [x.name], {}, name, x);
    case 'tanh': return e.op('Tanh', [x.name], {}, name, x);
    case 'elu': return e.op('Elu', [x.name], { alpha: 1 }, name, x);
    case 'selu': return e.op('Selu', [x.name], {}, name, x);
    case 'softplus': return e.op('Softplus', [x.name], {}, name, x);
    case 'hard_sigmoid': return e.op('HardSigmoid', [x.name], { alpha: 0.2, beta: 0.5 }, name, x);
    case 'leakyrelu': return e.op('LeakyRelu', [x.name], { alpha }, name, x);
    case 'softmax': return e.op('Softmax', [x.name], { axis: x.nchw ? 1 : -1 }, name, x);
    case 'swish': {
      const s = e.op('Sigmoid', [x.name], {}, `${name}/sigmoid`, x);
      return e.op('Mul', [x.name, s.name], {}, name, x);
    }
    default: throw new ImportError(`activation '${kind}' of '${name}' is not supported: use relu, relu6, sigmoid, tanh, elu, selu, softplus, hard_sigmoid, swish, softmax or linear`);
  }
}
