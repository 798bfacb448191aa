/**
 * A small network builder over GraphBuilder for test and benchmark models: layers with
 * seeded random weights, tensor shapes tracked as the graph grows (so the model can declare
 * its output shapes), and one symbolic batch dimension 'N'.
 */
import { GraphBuilder } from '../../src/graph/builder.ts';
import { makeAttribute, type AttrInput } from '../../src/model/attributes.ts';
import type { ModelProto, ValueInfoProto } from '../../src/model/onnx-proto.ts';
import { DataType, floatTensor } from '../../src/model/tensor-data.ts';
import { heStd, Rng } from '../../src/runtime/rng.ts';

/** A dimension: a size, or the symbolic batch 'N'. */
export type Dim = number | 'N';
export type Shape = Dim[];

export interface ConvOptions {
  k?: number;
  stride?: number;
  /** Same on every side; default keeps the size at stride 1 ("same" padding for odd k). */
  pad?: number;
  group?: number;
  dilation?: number;
  bias?: boolean;
  /** He gain of the weights: 2 when a ReLU follows, 1 when not. */
  gain?: number;
  name?: string;
}

export interface PoolOptions {
  k: number;
  stride?: number;
  pad?: number;
  ceil?: boolean;
  name?: string;
}

export interface BnOptions {
  /** Range of the random scale (gamma), default [0.5, 1.5]; small values damp a residual branch. */
  gamma?: [number, number];
  name?: string;
}

export interface GemmOptions {
  gain?: number;
  name?: string;
}

const OPSET = 17;

export class Net {
  readonly b = new GraphBuilder([]);
  /** The graph input, named 'input'. */
  readonly input = this.b.unique('input');
  private readonly rng: Rng;
  private readonly shapes = new Map<string, Shape>();
  private readonly counters = new Map<string, number>();

  constructor(readonly name: string, seed: number, inputShape: Shape) {
    this.rng = new Rng(seed);
    this.shapes.set(this.input, inputShape);
  }

  shape(x: string): Shape {
    const s = this.shapes.get(x);
    if (!s) throw new Error(`${this.name}: unknown tensor '${x}'`);
    return s;
  }

  /** Channels of an NCHW tensor. */
  channels(x: string): number {
    const c = this.shape(x)[1];
    if (typeof c !== 'number') throw new Error(`${this.name}: '${x}' has no static channel count`);
    return c;
  }

  /**
   * Emit one node whose output has `shape`. Node and output tensor are both named `name`
   * (default: kind + counter), so that tests can refer to layers by predictable names.
   */
  emit(opType: string, inputs: readonly string[], attrs: Record<string, AttrInput>, shape: Shape, name?: string): string {
    const wanted = name ?? this.fresh(opType.toLowerCase());
    if (this.b.unique(wanted) !== wanted) throw new Error(`${this.name}: tensor name '${wanted}' is already taken`);
    const attribute = Object.entries(attrs).map(([k, v]) => makeAttribute(k, v));
    this.b.nodes.push({ name: wanted, opType, domain: '', input: [...inputs], output: [wanted], attribute });
    this.shapes.set(wanted, shape);
    return wanted;
  }

  conv(x: string, outCh: number, o: ConvOptions = {}): string {
    const [n, inCh, h, w] = this.nchw(x);
    const k = o.k ?? 3, stride = o.stride ?? 1, group = o.group ?? 1, dilation = o.dilation ?? 1;
    const pad = o.pad ?? Math.floor((dilation * (k - 1)) / 2);
    if (inCh % group !== 0 || outCh % group !== 0) throw new Error(`${this.name}: group ${group} does not divide ${inCh} -> ${outCh} channels`);
    const name = o.name ?? this.fresh('conv');
    const fanIn = (inCh / group) * k * k;
    const inputs = [x, this.param(`${name}.weight`, [outCh, inCh / group, k, k], this.rng.symmetric(outCh * fanIn, heStd(fanIn, o.gain)))];
    if (o.bias ?? true) inputs.push(this.param(`${name}.bias`, [outCh], this.rng.uniforms(outCh, -0.1, 0.1)));
    const size = (d: number): number => Math.floor((d + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
    const attrs = { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad], dilations: [dilation, dilation], group };
    return this.emit('Conv', inputs, attrs, [n, outCh, size(h), size(w)], name);
  }

  /**
   * Inference-mode BatchNormalization with random statistics. Its output has roughly the
   * input's scale: E[gamma^2 / var] is about 1 for gamma, var ~ U(0.5, 1.5).
   */
  bn(x: string, o: BnOptions = {}): string {
    const c = this.channels(x);
    const name = o.name ?? this.fresh('bn');
    const [lo, hi] = o.gamma ?? [0.5, 1.5];
    const param = (what: string, data: Float32Array): string => this.param(`${name}.${what}`, [c], data);
    const inputs = [
      x,
      param('weight', this.rng.uniforms(c, lo, hi)),
      param('bias', this.rng.normals(c, 0, 0.1)),
      param('running_mean', this.rng.normals(c, 0, 0.1)),
      param('running_var', this.rng.uniforms(c, 0.5, 1.5)),
    ];
    return this.emit('BatchNormalization', inputs, { epsilon: 1e-5 }, this.shape(x), name);
  }

  relu(x: string, name?: string): string {
    return this.emit('Relu', [x], {}, this.shape(x), name);
  }

  sigmoid(x: string, name?: string): string {
    return this.emit('Sigmoid', [x], {}, this.shape(x), name);
  }

  hardSwish(x: string, name?: string): string {
    return this.emit('HardSwish', [x], {}, this.shape(x), name);
  }

  /** MobileNetV3's hard sigmoid relu6(x + 3) / 6, i.e. alpha 1/6 (the ONNX default is 0.2). */
  hardSigmoid(x: string, name?: string): string {
    return this.emit('HardSigmoid', [x], { alpha: 1 / 6, beta: 0.5 }, this.shape(x), name);
  }

  /** Clip with min and max as inputs (opset 11+), as ReLU6 exports. */
  clip(x: string, min: number, max: number, name?: string): string {
    return this.emit('Clip', [x, this.b.scalar('clip_min', min), this.b.scalar('clip_max', max)], {}, this.shape(x), name);
  }

  maxpool(x: string, o: PoolOptions): string {
    return this.pool('MaxPool', x, o);
  }

  avgpool(x: string, o: PoolOptions): string {
    return this.pool('AveragePool', x, o);
  }

  gap(x: string, name?: string): string {
    const [n, c] = this.nchw(x);
    return this.emit('GlobalAveragePool', [x], {}, [n, c, 1, 1], name);
  }

  flatten(x: string, name?: string): string {
    const [n, ...rest] = this.shape(x);
    return this.emit('Flatten', [x], { axis: 1 }, [n!, product(rest)], name);
  }

  /** Fully connected layer y = x W^T + b, W stored [out, in] as PyTorch exports it (transB = 1). */
  gemm(x: string, out: number, o: GemmOptions = {}): string {
    const [n, inF] = this.shape(x);
    if (typeof inF !== 'number') throw new Error(`${this.name}: gemm input '${x}' must be [N, features]`);
    const name = o.name ?? this.fresh('gemm');
    const w = this.param(`${name}.weight`, [out, inF], this.rng.symmetric(out * inF, heStd(inF, o.gain)));
    const bias = this.param(`${name}.bias`, [out], this.rng.uniforms(out, -0.1, 0.1));
    return this.emit('Gemm', [x, w, bias], { transB: 1 }, [n!, out], name);
  }

  add(a: string, b: string, name?: string): string {
    return this.emit('Add', [a, b], {}, this.broadcast(a, b), name);
  }

  mul(a: string, b: string, name?: string): string {
    return this.emit('Mul', [a, b], {}, this.broadcast(a, b), name);
  }

  /** Concatenate NCHW tensors along channels. */
  concat(xs: readonly string[], name?: string): string {
    const [n, , h, w] = this.nchw(xs[0]!);
    const c = xs.reduce((sum, x) => sum + this.channels(x), 0);
    return this.emit('Concat', xs, { axis: 1 }, [n, c, h, w], name);
  }

  /** Local response normalization with AlexNet's constants (Krizhevsky et al. 2012, section 3.3). */
  lrn(x: string, name?: string): string {
    return this.emit('LRN', [x], { size: 5, alpha: 1e-4, beta: 0.75, bias: 2 }, this.shape(x), name);
  }

  /** Dropout (opset 12+: ratio is an input); the identity at inference. */
  dropout(x: string, ratio = 0.5, name?: string): string {
    return this.emit('Dropout', [x, this.b.scalar('dropout_ratio', ratio)], {}, this.shape(x), name);
  }

  /**
   * Upsample H and W by an integer factor with Resize's scales input, in the coordinate
   * conventions PyTorch exports: nearest = F.interpolate(mode='nearest') (asymmetric, floor),
   * linear = bilinear with align_corners=False (half_pixel).
   */
  resize(x: string, factor: number, mode: 'nearest' | 'linear' = 'nearest', name?: string): string {
    const [n, c, h, w] = this.nchw(x);
    const scales = this.b.constant('resize_scales', floatTensor([4], [1, 1, factor, factor]));
    const attrs = mode === 'nearest'
      ? { mode, coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : { mode, coordinate_transformation_mode: 'half_pixel' };
    return this.emit('Resize', [x, '', scales], attrs, [n, c, h * factor, w * factor], name);
  }

  softmax(x: string, name?: string): string {
    return this.emit('Softmax', [x], { axis: -1 }, this.shape(x), name);
  }

  transpose(x: string, perm: number[], name?: string): string {
    const s = this.shape(x);
    return this.emit('Transpose', [x], { perm }, perm.map((p) => s[p]!), name);
  }

  /** The model at opset 17 with float input and outputs; every shape has batch 'N'. */
  finish(outputs: readonly string[]): ModelProto {
    return {
      irVersion: 8,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'convlens-zoo',
      graph: {
        name: this.name,
        node: this.b.nodes,
        initializer: this.b.initializers,
        input: [this.valueInfo(this.input)],
        output: outputs.map((o) => this.valueInfo(o)),
      },
    };
  }

  private pool(opType: 'MaxPool' | 'AveragePool', x: string, o: PoolOptions): string {
    const [n, c, h, w] = this.nchw(x);
    const stride = o.stride ?? o.k, pad = o.pad ?? 0;
    const round = o.ceil ? Math.ceil : Math.floor;
    const size = (d: number): number => round((d + 2 * pad - o.k) / stride) + 1;
    const attrs = { kernel_shape: [o.k, o.k], strides: [stride, stride], pads: [pad, pad, pad, pad], ceil_mode: o.ceil ? 1 : 0 };
    return this.emit(opType, [x], attrs, [n, c, size(h), size(w)], o.name);
  }

  private nchw(x: string): [Dim, number, number, number] {
    const s = this.shape(x);
    const [n, c, h, w] = s;
    if (s.length !== 4 || n === undefined || typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number') {
      throw new Error(`${this.name}: '${x}' [${s}] is not an NCHW tensor with static C, H, W`);
    }
    return [n, c, h, w];
  }

  /** Numpy broadcasting of two shapes. */
  private broadcast(a: string, b: string): Shape {
    const sa = this.shape(a), sb = this.shape(b);
    const rank = Math.max(sa.length, sb.length);
    return Array.from({ length: rank }, (_, i) => {
      const da = sa[sa.length - rank + i] ?? 1, db = sb[sb.length - rank + i] ?? 1;
      if (da === 1) return db;
      if (db === 1 || da === db) return da;
      throw new Error(`${this.name}: cannot broadcast '${a}' [${sa}] with '${b}' [${sb}]`);
    });
  }

  private param(name: string, dims: number[], data: Float32Array): string {
    return this.b.constant(name, { dataType: DataType.FLOAT, dims, data });
  }

  private fresh(kind: string): string {
    const k = (this.counters.get(kind) ?? 0) + 1;
    this.counters.set(kind, k);
    return `${kind}${k}`;
  }

  private valueInfo(name: string): ValueInfoProto {
    const dim = this.shape(name).map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
    return { name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim } } } };
  }
}

function product(dims: readonly Dim[]): number {
  let p = 1;
  for (const d of dims) {
    if (typeof d !== 'number') throw new Error('cannot flatten a symbolic dimension');
    p *= d;
  }
  return p;
}
