/**
 * What the weights look like: convolution kernels as images (the first-layer filter
 * figures of Krizhevsky et al. 2012 and Zeiler & Fergus 2014) and per-layer weight
 * statistics with a histogram.
 */
import { OptionError } from '../errors.ts';
import type { NodeProto } from '../model/onnx-proto.ts';
import { attrInt } from '../model/attributes.ts';
import { DataType, type TensorValue } from '../model/tensor-data.ts';
import type { GraphView } from '../model/graph-view.ts';
import type { Specialized } from '../runtime/specialize.ts';
import { LayerError, spatialLayers, suggestName, type LayerRef } from '../targets/layers.ts';
import { createRgbImage, type RgbImage } from '../viz/image.ts';
import { minMaxNormalize } from '../viz/normalize.ts';
import { grid } from '../viz/render.ts';
import { tileFigure, type Figure } from './figure.ts';

const WEIGHT_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export interface WeightLayer {
  node: NodeProto;
  /** The node's name, or its output tensor's when it has none. */
  name: string;
  op: string;
  /** The constant weight input. */
  weight: string;
  value: TensorValue;
}

/** Float constant weights only; a quantized weight arrives through DequantizeLinear, not as a constant. */
function floatConstant(view: GraphView, tensor: string | undefined): TensorValue | undefined {
  const v = tensor ? view.constant(tensor) : undefined;
  return v && (v.dataType === DataType.FLOAT || v.dataType === DataType.DOUBLE) ? v : undefined;
}

/** Conv, ConvTranspose, Gemm (B) and MatMul (either side) nodes with a constant weight, in topological order. */
export function weightLayers(s: Specialized): WeightLayer[] {
  const out: WeightLayer[] = [];
  for (const node of s.view.nodes) {
    if (!WEIGHT_OPS.has(node.opType)) continue;
    const candidates = node.opType === 'MatMul' ? [node.input[1], node.input[0]] : [node.input[1]];
    const weight = candidates.find((t) => floatConstant(s.view, t));
    if (weight) out.push({ node, name: node.name || node.output[0]!, op: node.opType, weight, value: floatConstant(s.view, weight)! });
  }
  return out;
}

function listNames(names: readonly string[]): string {
  return names.length > 12 ? `${names.slice(0, 12).join(', ')}, ... ${names.length - 12} more` : names.join(', ');
}

/** 2-D convolutions with a constant [M, C/group, kh, kw] weight: what `filterImages` can show. */
function kernelLayers(s: Specialized): WeightLayer[] {
  return weightLayers(s).filter((l) => l.op === 'Conv' && l.value.dims.length === 4);
}

/** A Conv by node name, output tensor name, or spatial-layer index (see `spatialLayers`). */
function resolveKernelLayer(s: Specialized, ref: LayerRef): WeightLayer {
  const convs = kernelLayers(s);
  const choices = () => (convs.length ? `choose one of ${listNames(convs.map((l) => l.name))}` : 'the model has no convolution with constant weights');
  let node: NodeProto | undefined;
  if (typeof ref === 'number') {
    const layers = spatialLayers(s);
    const layer = layers[ref < 0 ? layers.length + ref : ref];
    if (!layer) throw new LayerError(`layer index ${ref} is out of range: the model has ${layers.length} spatial layers (0..${layers.length - 1}); or ${choices()}`);
    node = s.view.producer(layer.tensor)?.node;
  } else {
    node = s.view.nodes.find((n) => n.name === ref) ?? s.view.producer(ref)?.node;
  }
  if (!node) {
    const guess = suggestName(String(ref), convs.map((l) => l.name));
    throw new LayerError(`the model has no layer '${ref}'${guess ? ` (did you mean '${guess}'?)` : ''}: ${choices()}`);
  }
  const found = convs.find((l) => l.node === node);
  if (found) return found;
  const what = WEIGHT_OPS.has(node.opType) ? 'has no 2-D kernels to show' : 'has no weights';
  throw new LayerError(`layer '${ref}' (${node.opType}) ${what}: ${choices()}`);
}

/** True when no weight layer lies between the graph input and `node` (a first layer). */
function readsInputDirectly(view: GraphView, node: NodeProto): boolean {
  const seen = new Set<string>();
  const stack = [node.input[0]!];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = view.producer(t)?.node;
    if (!p) continue;
    if (WEIGHT_OPS.has(p.opType)) return false;
    stack.push(...p.input.filter((i) => i && !view.isInitializer(i)));
  }
  return true;
}

export interface FilterTile {
  /** Output channel (filter) index. */
  out: number;
  /** Input channel index in the layer's input (across groups); undefined for an RGB tile, which shows all three. */
  in?: number;
  /** The kernel min-max normalized to [0, 1]: [3, kh, kw] for RGB tiles, [kh, kw] for grey ones. */
  values: Float32Array;
  image: RgbImage;
}

export interface FilterImages {
  layer: string;
  op: string;
  mode: 'rgb' | 'gray';
  kernel: [kh: number, kw: number];
  tiles: FilterTile[];
  /** Tiles tiled as viz `grid` (make_grid's layout), black padding. */
  grid: RgbImage;
}

export interface FilterImageOptions {
  maxTiles?: number;
  /** Tiles per grid row (make_grid's nrow). */
  nrow?: number;
  padding?: number;
}

/**
 * A conv layer's kernels as images. A first-layer conv with 3 input channels (group 1)
 * gives one RGB tile per filter, channel c as colour c, min-max normalized over its own
 * 3 x kh x kw values; any other conv one grey tile per (output, input) pair, in the
 * weight's order (filter 0 with each of its inputs, then filter 1, ...), each normalized
 * over its kh x kw values. At most `maxTiles` tiles, the first ones in that order.
 */
export function filterImages(s: Specialized, layer: LayerRef, options: FilterImageOptions = {}): FilterImages {
  const { maxTiles = 64, nrow = 8, padding = 1 } = options;
  if (!Number.isInteger(maxTiles) || maxTiles < 1) throw new OptionError(`maxTiles must be an integer >= 1, got ${maxTiles}`);
  const l = resolveKernelLayer(s, layer);
  const [m, perGroup, kh, kw] = l.value.dims as [number, number, number, number];
  const group = attrInt(l.node, 'group', 1);
  const w = l.value.data as Float32Array | Float64Array;
  const plane = kh * kw;
  const rgb = perGroup === 3 && group === 1 && readsInputDirectly(s.view, l.node);
  const tiles: FilterTile[] = [];
  const pairs = rgb ? m : m * perGroup;
  for (let t = 0; t < Math.min(pairs, maxTiles); t++) {
    const size = rgb ? 3 * plane : plane;
    const values = minMaxNormalize(Float32Array.from(w.subarray(t * size, (t + 1) * size)));
    const image = createRgbImage(kw, kh);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) image.data[3 * p + c] = Math.round(255 * values[(rgb ? c * plane : 0) + p]!);
    }
    const out = rgb ? t : Math.floor(t / perGroup);
    // Filter `out` of group g = floor(out / (M / group)) reads input channels g * C/group + i.
    const tile: FilterTile = { out, values, image };
    if (!rgb) tile.in = Math.floor(out / (m / group)) * perGroup + (t % perGroup);
    tiles.push(tile);
  }
  return {
    layer: l.name,
    op: l.op,
    mode: rgb ? 'rgb' : 'gray',
    kernel: [kh, kw],
    tiles,
    grid: grid(tiles.map((t) => t.image), { columns: nrow, padding, background: [0, 0, 0] }),
  };
}

export interface WeightStats {
  layer: string;
  op: string;
  weight: string;
  shape: number[];
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation (numpy's std, ddof = 0). */
  std: number;
  /** Share of weights that are exactly 0 (pruning shows here). */
  zeros: number;
  /** 30 equal bins over [min, max] as numpy.histogram(w.astype(float64), bins=30): `edges` has 31 values. */
  histogram: { edges: number[]; counts: number[] };
}

const BINS = 30;

/**
 * numpy.histogram(values, bins=30) on float64 values: edges as np.linspace
 * (e_i = i * ((hi - lo) / 30) + lo, e_30 = hi), bins half-open [e_i, e_i+1) except the last,
 * which holds max; a constant input uses the range [v - 0.5, v + 0.5]. The bin index is
 * floor((v - lo) * (30 / (hi - lo))), then moved by one where the float edges disagree,
 * as numpy corrects it.
 */
function histogram(values: Float64Array, min: number, max: number): { edges: number[]; counts: number[] } {
  const [lo, hi] = min === max ? [min - 0.5, max + 0.5] : [min, max];
  const edges = Array.from({ length: BINS + 1 }, (_, i) => (i === BINS ? hi : i * ((hi - lo) / BINS) + lo));
  const counts = new Array<number>(BINS).fill(0);
  const norm = BINS / (hi - lo);
  for (const v of values) {
    let i = Math.min(Math.floor((v - lo) * norm), BINS - 1);
    if (v < edges[i]!) i--;
    else if (i < BINS - 1 && v >= edges[i + 1]!) i++;
    counts[i]!++;
  }
  return { edges, counts };
}

/** Statistics of every weight layer (Conv, ConvTranspose, Gemm, MatMul with a constant weight). */
export function weightStats(s: Specialized): WeightStats[] {
  return weightLayers(s).map((l) => {
    const v = Float64Array.from(l.value.data as Float32Array | Float64Array);
    let min = Infinity, max = -Infinity, sum = 0, zeros = 0;
    for (const x of v) {
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
      if (x === 0) zeros++;
    }
    const mean = sum / v.length;
    let squares = 0;
    for (const x of v) squares += (x - mean) ** 2;
    return {
      layer: l.name,
      op: l.op,
      weight: l.weight,
      shape: l.value.dims.slice(),
      count: v.length,
      min,
      max,
      mean,
      std: Math.sqrt(squares / v.length),
      zeros: zeros / v.length,
      histogram: histogram(v, min, max),
    };
  });
}

/**
 * A layer's kernels as a readable figure: tiles upscaled to at least `minTile` pixels,
 * each labelled under it (filter index; filter/input channel for grey tiles), the layer
 * as the title, and a bar saying how weights map to grey levels.
 */
export function filterFigure(f: FilterImages, options: { columns?: number; minTile?: number } = {}): Figure {
  const { columns = 8, minTile = 64 } = options;
  const rgb = f.mode === 'rgb';
  return tileFigure(f.tiles.map((t) => t.image), {
    columns,
    minTile,
    title: `${f.layer}  ${f.op} ${f.kernel.join('x')} kernels${rgb ? ' (RGB: input channel c as colour c)' : ''}`,
    captions: f.tiles.map((t) => (rgb ? String(t.out) : `${t.out}/${t.in}`)),
    colorbar: {
      scale: { colormap: 'channels', min: 0, max: 1 },
      caption: `weight, each ${rgb ? 'filter' : 'kernel'} from its own min to its max; label = ${rgb ? 'filter' : 'filter/input channel'}`,
      tickLabels: ['min', 'max'],
    },
  });
}
